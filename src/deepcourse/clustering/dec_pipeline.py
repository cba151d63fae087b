"""The DEC pipeline shared by module 5's experiments (Xie, Girshick & Farhadi 2016, Sec. 3), and the
driver of their Table 2: k-means on pixels, SDAE + k-means, DEC with a frozen encoder, DEC, and IDEC (Guo et
al. 2017) from the same SDAE and the same k-means start.

Recipe (``DECConfig``):

* images flattened and, with ``normalise`` (the default), multiplied by one data-set-wide factor so that the
  mean over points of ``(1/d) ||x_i||^2`` is 1 (Xie et al. 2016, Sec. 4.1: "we normalize all datasets so that
  (1/d)||x_i||^2 is approximately 1"; the authors' Caffe code multiplies MNIST's 0-255 pixels by 0.02). From
  [0, 1] that factor is 2.98 on MNIST, 2.20 on Fashion-MNIST and 2.54 on USPS. The scale matters for DEC:
  the Student-t kernel ``1 / (1 + ||z - mu||^2)`` is not scale-free, and with [0, 1] pixels the codes came out
  about 3x smaller, the kernel too flat, and DEC with a frozen encoder drifted below its k-means start at the
  paper's lr (MNIST 70k: 70.9 % -> 62.3 %, never meeting the stop rule in 5,000 iterations; results of
  2026-11-26); with ``subset=0`` train and test are concatenated (MNIST and
  Fashion-MNIST: 70,000 images, as the paper clusters the whole set; USPS: all 9,298); ``subset=n`` keeps a
  fixed stratified subset of n training images (``data.load_splits``), the same for every seed;
* stacked denoising AE ``d-500-500-2000-10`` (the paper's), greedy layer-wise denoising pretraining
  (dropout 0.2), then end-to-end fine-tuning;
* ``code_scale`` (default 1): the trained SDAE's codes multiplied by one factor (:func:`rescale_embedding`:
  the last encoder layer times s, the first decoder layer's weights divided by s, so the reconstruction and
  the k-means partition do not change). The reconstruction loss leaves that scale free, but the Student-t
  kernel sees it: on USPS our codes came out at RMS 1.02, where the kernel is flat (mean max q_ij 0.24) and
  DEC with a frozen encoder slid from its 67.3 % k-means start to 60.4 % by pushing the outer centroids
  outwards; x3 kept it at its start (67.75 %, converged). dec-usps full uses 3 (see its experiment file);
* k-means with 20 restarts on the codes -> DEC: SGD (lr 0.01, momentum 0.9, batch 256) on KL(P||Q),
  target update every 140 iterations, stop when < 0.1 % of labels change (``tol``) or at ``max_iter``;
* IDEC: the same start, the decoder kept, ``L = L_r + 0.1 L_c`` (Guo et al. 2017), Adam at lr 1e-3 as the
  authors' code uses on MNIST, the same update interval, tolerance and cap.

Every run folder gets ``assignments.npz`` (the true labels and each row's predicted clusters, so ACC and NMI
can be recomputed) and ``dec_model.pt`` (the DEC and IDEC encoders' weights, their centroids and the input
scale).

Where the full recipe is shortened, and why: the paper pretrains 50,000 SGD iterations per layer and
fine-tunes 100,000 more (about 180 and 370 epochs of MNIST at batch 256). On the 2-core CPU this project is
measured on, one fp32 epoch of the 784-500-500-2000-10 autoencoder over 70,000 images took 90 s, so that
schedule would take days. The full presets therefore use Adam (lr 1e-3) instead of SGD, 1 layer-wise epoch per
layer, 15 end-to-end epochs at batch 64 (batch 64 reached a given k-means accuracy several times sooner than
batch 256 in our trajectory runs), bf16 autocast for the autoencoder (1.6x faster than fp32 on an AVX512-BF16
CPU) and at most 5,000 DEC iterations, so that dec-mnist full takes about half an hour (33.5 minutes
measured with IDEC, at --threads 1 on a shared machine). The price is a weaker autoencoder than the paper's:
see the SDAE + k-means row. dec-fashion full spends its hour on the autoencoder instead: 20 fine-tuning
epochs, DEC capped at 4,000 iterations, no IDEC.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import Tensor

from deepcourse.autoencoders import StackedDenoisingAE, encode_batched, finetune, pretrain_layerwise
from deepcourse.core import Run, param
from deepcourse.data import load_splits
from deepcourse.metrics import cluster_acc, nmi

from .dec import DECResult, Regularisers, fit_dec, kmeans_init

__all__ = ["DATASETS", "DECConfig", "load_points", "normalise_points", "pretrain_sdae", "rescale_embedding", "run_dec",
           "compare_dec", "percent"]

DATASETS = ("mnist", "fashion-mnist", "usps", "coil20", "digits")  # digits: embedded, for offline tests only


@dataclass
class DECConfig:
    dataset: str = param("mnist", choices=DATASETS, help="data set to cluster")
    subset: int = param(0, ge=0, help="a fixed stratified subset of this many training images (0: train + test)")
    hidden: tuple[int, ...] = param((500, 500, 2000), ge=1, help="hidden widths of the SDAE encoder")
    embed: int = param(10, ge=1, help="embedding dimension (the paper's 10)")
    dropout: float = param(0.2, ge=0.0, lt=1.0, help="corruption rate of layer-wise pretraining")
    pretrain_epochs: int = param(5, ge=0, help="layer-wise denoising epochs per layer")
    finetune_epochs: int = param(15, ge=0, help="end-to-end SDAE fine-tuning epochs")
    ae_lr: float = param(1e-3, gt=0, help="Adam learning rate of the SDAE stages")
    ae_batch: int = param(256, ge=1, help="SDAE mini-batch size")
    dec_lr: float = param(0.01, gt=0, help="SGD learning rate of the DEC stage (momentum 0.9)")
    dec_batch: int = param(256, ge=1, help="DEC mini-batch size (the paper's 256)")
    update_interval: int = param(140, ge=1, help="iterations between target-distribution updates")
    tol: float = param(0.001, ge=0, lt=1, help="stop when fewer than this fraction of labels change")
    max_iter: int = param(4000, ge=0, help="cap on DEC iterations")
    nu: float = param(1.0, gt=0, help="degrees of freedom of the Student-t kernel")
    n_init: int = param(20, ge=1, help="k-means restarts on the codes (the paper's 20)")
    raw_n_init: int = param(10, ge=1, help="k-means restarts of the raw-pixel baseline")
    amp: bool = param(False, help="bf16 autocast for the SDAE stages (1.6x faster on AVX512-BF16 CPUs)")
    normalise: bool = param(True, help="scale inputs so that mean (1/d)||x||^2 = 1 (Xie et al. 2016, Sec. 4.1)")
    code_scale: float = param(1.0, gt=0, help="rescale the trained SDAE's embedding by this factor (the "
                                              "reconstruction is unchanged; only DEC's kernel sees it)")
    idec: bool = param(True, help="also run IDEC (Guo et al. 2017) from the same SDAE and k-means start")
    idec_gamma: float = param(0.1, ge=0, help="IDEC: L = L_r + gamma L_c (the paper's 0.1)")
    idec_lr: float = param(1e-3, gt=0, help="IDEC: Adam learning rate (the authors' MNIST setting)")


def load_points(name: str, run: Run | None = None, subset: int = 0) -> tuple[Tensor, Tensor, tuple[int, int] | None]:
    """``(x (N, D) float32 in [0, 1], y (N,) int64, image shape (H, W))`` of the points to cluster.

    ``subset=0``: train and test concatenated (the clustering papers use every image); otherwise a fixed
    stratified subset of ``subset`` training images. Raises ``DataMissingError`` when the data is absent.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    s = load_splits(name, run, val=0.0, subset=subset or None)
    x, y = (s.x_train, s.y_train) if subset else (torch.cat([s.x_train, s.x_test]), torch.cat([s.y_train, s.y_test]))
    shape = (8, 8) if name == "digits" else tuple(x.shape[-2:])
    return x.flatten(1).float().contiguous(), y.long(), shape  # (N, H*W)


def normalise_points(x: Tensor) -> tuple[Tensor, float]:
    """``(c x, c)`` with the one factor ``c`` that makes the mean over points of ``(1/d) ||x_i||^2`` equal 1
    (Xie et al. 2016, Sec. 4.1). One factor for the whole set keeps the geometry between points."""
    ms = float((x.double() ** 2).mean())
    if not ms > 0:
        raise ValueError("cannot normalise: every entry of x is 0")
    c = ms ** -0.5
    return x * c, c


def rescale_embedding(model: StackedDenoisingAE, s: float) -> StackedDenoisingAE:
    """Multiply the SDAE's codes by ``s`` without changing what it reconstructs: the last encoder Linear's
    weight and bias are multiplied by ``s`` and the first decoder Linear's weight divided by ``s`` (that layer
    is linear in z). The reconstruction loss is blind to this scale and k-means is scale-equivariant (same
    partition, centroids times ``s``), but the Student-t kernel ``1 / (1 + ||z - mu||^2)`` of DEC is not."""
    if not s > 0:
        raise ValueError(f"s must be > 0, got {s!r}")
    if s != 1.0:
        enc, dec = model.encoder_linear(model.n_layers - 1), model.decoder_linear(model.n_layers - 1)
        with torch.no_grad():
            enc.weight.mul_(s)
            enc.bias.mul_(s)
            dec.weight.div_(s)
    return model


def _seed(run: Run, tag: str) -> int:
    return run.seed_for(tag) % 2**31  # sklearn and the loaders want a 32-bit seed


def pretrain_sdae(cfg: DECConfig, x: Tensor, run: Run, tag: str = "sdae") -> StackedDenoisingAE:
    """The SDAE of Xie et al. (2016, Sec. 3.2): layer-wise denoising pretraining, then fine-tuning."""
    run.manual_seed(tag)
    model = StackedDenoisingAE((x.shape[1], *cfg.hidden, cfg.embed), dropout=cfg.dropout).to(x.device)
    kw = dict(batch_size=cfg.ae_batch, lr=cfg.ae_lr, seed=_seed(run, tag), run=run, amp=cfg.amp)
    pretrain_layerwise(model, x, epochs=cfg.pretrain_epochs, **kw)
    finetune(model, x, epochs=cfg.finetune_epochs, **kw)
    return model.eval()


def run_dec(cfg: DECConfig, encoder, x: Tensor, y: Tensor, k: int, centroids: Tensor, run: Run, *,
            train_encoder: bool = True, decoder=None, regs: Regularisers | None = None, tag: str = "dec",
            snapshot_every: int = 0, lr: float | None = None, optimizer: str = "sgd") -> DECResult:
    """:func:`fit_dec` with the config's DEC settings (``lr`` defaults to ``dec_lr``), seeded by
    ``run.seed_for(tag)``."""
    return fit_dec(encoder, x, k, y=y, centroids=centroids, nu=cfg.nu, lr=cfg.dec_lr if lr is None else lr,
                   optimizer=optimizer, batch_size=cfg.dec_batch,
                   update_interval=cfg.update_interval, tol=cfg.tol, max_iter=cfg.max_iter,
                   train_encoder=train_encoder, decoder=decoder, regularisers=regs, snapshot_every=snapshot_every,
                   seed=_seed(run, tag), run=run, log_prefix=f"{tag}/", desc=tag)


def percent(v: float) -> float:
    return round(100.0 * v, 4)


_ROWS = (("k-means on pixels", "kmeans"), ("SDAE + k-means (DEC's initialisation)", "ae_kmeans"),
         ("DEC w/o backprop (encoder frozen)", "dec_nobp"), ("DEC", "dec"), ("IDEC (L_r + 0.1 L_c, decoder kept)", "idec"))


def _stop(res: DECResult) -> str:
    return f"{res.iterations} ({'converged' if res.converged else 'cap, not converged'})"


def _save_run_files(run: Run, y: Tensor, labels: dict[str, Tensor], models: dict[str, DECResult],
                    encoders: dict, scale: float) -> None:
    """``assignments.npz`` (``y_true`` and one predicted-cluster array per row) and ``dec_model.pt``."""
    import numpy as np

    if not run.is_main:
        return
    np.savez_compressed(run.out / "assignments.npz", y_true=y.numpy(),
                        **{f"y_pred_{key}": pred.numpy() for key, pred in labels.items()})
    torch.save({"input_scale": scale, **{key: {"encoder": encoders[key].state_dict(), "centroids": res.centroids,
                                               "iterations": res.iterations, "converged": res.converged}
                                         for key, res in models.items()}}, run.out / "dec_model.pt")


def compare_dec(cfg: DECConfig, run: Run, paper: dict[str, float] | None = None) -> dict[str, float]:
    """k-means on raw pixels, SDAE + k-means, DEC w/o backprop, DEC and IDEC on one data set (Xie et al. 2016,
    Table 2; Guo et al. 2017). ``dec_gain``: ACC of DEC minus ACC of its own k-means initialisation (points);
    ``nobp_change``: the same for DEC w/o backprop; ``idec_minus_dec``: IDEC's ACC minus DEC's, from the same
    start; ``nmi_dec_minus_frozen``: NMI of DEC minus NMI of DEC with the encoder frozen, from the same start
    (the paper's "DEC w/o backprop" ablation)."""
    from .figures import accuracy_curve, confident_figure, latent_figure  # matplotlib only when drawing

    t0 = time.perf_counter()
    x_img, y, shape = load_points(cfg.dataset, run, cfg.subset)
    x, scale = normalise_points(x_img) if cfg.normalise else (x_img, 1.0)
    k = int(y.max()) + 1
    times = {"time_load_s": time.perf_counter() - t0}
    t = time.perf_counter()
    _, raw_labels = kmeans_init(x, k, n_init=cfg.raw_n_init, seed=_seed(run, "kmeans_pixels"))
    times["time_kmeans_raw_s"] = time.perf_counter() - t
    t = time.perf_counter()
    sdae = rescale_embedding(pretrain_sdae(cfg, x, run), cfg.code_scale)
    times["time_pretrain_s"] = time.perf_counter() - t
    t = time.perf_counter()
    codes = encode_batched(sdae.encode, x)
    centroids, ae_labels = kmeans_init(codes, k, n_init=cfg.n_init, seed=_seed(run, "kmeans_codes"))
    times["time_kmeans_init_s"] = time.perf_counter() - t
    t = time.perf_counter()
    nobp = run_dec(cfg, sdae.encoder, x, y, k, centroids, run, train_encoder=False, tag="dec_nobp")
    times["time_dec_nobp_s"] = time.perf_counter() - t
    t = time.perf_counter()
    dec_encoder = copy.deepcopy(sdae.encoder)
    dec = run_dec(cfg, dec_encoder, x, y, k, centroids, run, tag="dec", snapshot_every=3)
    times["time_dec_s"] = time.perf_counter() - t
    results, encoders = {"dec_nobp": nobp, "dec": dec}, {"dec_nobp": sdae.encoder, "dec": dec_encoder}
    if cfg.idec:
        t = time.perf_counter()
        ae = copy.deepcopy(sdae)
        results["idec"] = run_dec(cfg, ae.encoder, x, y, k, centroids, run, decoder=ae.decoder, tag="idec",
                                  regs=Regularisers(reconstruction=True, gamma=cfg.idec_gamma), lr=cfg.idec_lr,
                                  optimizer="adam")
        encoders["idec"] = ae.encoder
        times["time_idec_s"] = time.perf_counter() - t
    labels = {"kmeans": raw_labels, "ae_kmeans": ae_labels, **{key: r.y_pred for key, r in results.items()}}
    _save_run_files(run, y, labels, results, encoders, scale)
    out = {}
    for key, pred in labels.items():
        out[f"acc_{key}"], out[f"nmi_{key}"] = percent(cluster_acc(y, pred)), nmi(y, pred)
    for key, res in results.items():
        out[f"{key}_iterations"], out[f"{key}_converged"] = float(res.iterations), float(res.converged)
    out.update(dec_gain=round(out["acc_dec"] - out["acc_ae_kmeans"], 4),
               nobp_change=round(out["acc_dec_nobp"] - out["acc_ae_kmeans"], 4),
               nmi_dec_minus_frozen=out["nmi_dec"] - out["nmi_dec_nobp"], n_points=float(len(x)),
               input_scale=scale, code_rms=float(codes.pow(2).mean().sqrt()),
               **{k_: round(v, 3) for k_, v in times.items()})
    if cfg.idec:
        out["idec_minus_dec"] = round(out["acc_idec"] - out["acc_dec"], 4)

    paper = paper if paper and not cfg.subset else {}  # the paper's numbers are for the whole set, not a subset
    rows = [{"method": label, "ACC % (ours)": out[f"acc_{key}"],
             **({"ACC % (paper)": paper.get(f"acc_{key}")} if paper else {}),
             "NMI (ours)": out[f"nmi_{key}"],
             "iterations": _stop(results[key]) if key in results else "-"}
            for label, key in _ROWS if f"acc_{key}" in out]
    run.table(rows, f"DEC on {cfg.dataset} ({len(x)} images{', inputs scaled x%.3g' % scale if cfg.normalise else ''};"
                    f" DEC-stage runs stop when fewer than {100 * cfg.tol:g} % of the labels change between target "
                    f"updates, or at {cfg.max_iter} iterations)", floatfmt=".4g")
    run.save_figure("latent_over_dec", latent_figure(dec, f"DEC on {cfg.dataset}: codes of 2,000 points (PCA), "
                                                          "coloured by cluster"))
    run.save_figure("most_confident", confident_figure(dec, x_img, shape, f"{cfg.dataset}: 10 most confident members "
                                                                          "of each DEC cluster (one row each)"))
    curves = {"DEC": dec.history, "DEC w/o backprop": nobp.history}
    if cfg.idec:
        curves["IDEC"] = results["idec"].history
    run.save_figure("accuracy_over_iterations", accuracy_curve(curves))
    if run.verbose:
        print(f"{cfg.dataset}: " + "  ".join(f"{label.split(' (')[0]} {out[f'acc_{key}']:.2f} %"
                                              for label, key in _ROWS if f"acc_{key}" in out))
    return out
