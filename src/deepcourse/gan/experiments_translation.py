"""Module 2 experiments on image-to-image translation: pix2pix's loss ablation and patch-size study, and
CycleGAN's cycle/GAN ablation with label preservation.

Quick presets run offline on scikit-learn's 8x8 digits (edges -> digit for pix2pix; digits <-> inverted
digits for CycleGAN) in about half a minute on two CPU cores. Full presets follow the papers on real data:
``edges2fashion`` (Fashion-MNIST, 28x28) and MNIST <-> USPS at 16x16.

Classifier accuracy on generated images is our stand-in for the FCN-score of Isola et al. 2017 (a
segmentation network run on the outputs); FID is computed on the domain classifier of
:mod:`deepcourse.metrics.generative.fid`, and the feature network's fingerprint is logged with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from deepcourse.core import Reference, Run, at_most, experiment, param
from deepcourse.core.utils import num_threads as _threads
from deepcourse.metrics.generative import fid as G

from . import patchgan  # noqa: F401  (registers the "patchgan" model)
from .cyclegan import apply, make_cyclegan, train_cyclegan
from .data import load_paired, load_unpaired_digits, resize
from .pix2pix import OBJECTIVES, make_pix2pix, train_pix2pix, translate


def _slug(name: str) -> str:
    return name.lower().replace("+", "_")


def _rf(value: str) -> str | int:
    return int(value) if value.isdigit() else value


# ------------------------------------------------------------------------------------------------ pix2pix
@dataclass
class Pix2PixConfig:
    dataset: str = param("edges2sklearn-digits", choices=("edges2sklearn-digits", "edges2digits", "edges2fashion"))
    epochs: int = param(3, ge=1, help="epochs per model")
    batch_size: int = param(32, ge=1)
    lr: float = param(2e-3, gt=0, help="Adam learning rate (paper: 2e-4 with batch 1)")
    lambda_l1: float = param(100.0, ge=0, help="weight of the L1 term (paper: 100)")
    depth: int = param(2, ge=1, help="U-Net levels")
    width: int = param(16, ge=1, help="U-Net base width")
    d_width: int = param(16, ge=1, help="PatchGAN base width")
    # 16/256 and 70/256 of the paper's image side are about 2 and 8 pixels of a 28x28 image, hence 3 and 9 in the
    # full preset; on 8x8 digits the quick preset compares 1 (PixelGAN), 3 and the full image.
    receptive_field: str = param("3", help="PatchGAN receptive field of the ablation (pixel|16|70|full|odd int)")
    patches: str = param("pixel,full", help="extra receptive fields for the patch-size study (comma-separated)")
    train_limit: int = param(0, ge=0, help="use the first N training pairs (0: all)")
    eval_n: int = param(2000, ge=10, help="test pairs evaluated")
    threads: int = param(1, ge=0, help="torch threads during training (0: leave as is)")


PIX2PIX_PAPER = Reference(
    "Isola et al. 2017, Table 1 (FCN per-pixel accuracy, Cityscapes labels->photo); ours: classifier accuracy",
    {"l1_acc": 0.42, "gan_acc": 0.22, "cgan_acc": 0.57, "l1_gan_acc": 0.64, "l1_cgan_acc": 0.66, "real_acc": 0.80})


@experiment(
    name="pix2pix-edges2fashion", module="2", showcase=("samples",), title="pix2pix: loss ablation and PatchGAN size on edges -> items",
    paper=PIX2PIX_PAPER,
    quick=Pix2PixConfig(),
    full=Pix2PixConfig(dataset="edges2fashion", epochs=20, batch_size=64, lr=2e-4, depth=3, width=64, d_width=64,
                       receptive_field="9", patches="pixel,3,full", eval_n=10000, threads=0),
    floor={"l1_cgan_l1_ratio": at_most(0.6), "l1_cgan_acc": 0.4, "gan_l1_ratio_gap": 0.1},
    primary="l1_cgan_acc",
)
def pix2pix_edges(cfg: Pix2PixConfig, run: Run) -> dict[str, float]:
    """The pix2pix ablation (L1, GAN, cGAN, L1+GAN, L1+cGAN) and patch-size study on edges -> image pairs.

    Each variant trains the same U-Net (dropout at test time) from the same seed; we report per-pixel
    L1 and SSIM against the target, the domain classifier's accuracy on the outputs and domain FID.
    """
    from deepcourse.foundations import ssim
    from deepcourse.viz.figures import image_grid

    e, x, y = load_paired(cfg.dataset, "train", run.data_root)
    et, xt, yt = load_paired(cfg.dataset, "test", run.data_root)
    if cfg.train_limit:
        e, x = e[:cfg.train_limit], x[:cfg.train_limit]
    et, xt, yt = et[:cfg.eval_n], xt[:cfg.eval_n], yt[:cfg.eval_n]
    domain = {"edges2sklearn-digits": "digits", "edges2digits": "mnist", "edges2fashion": "fashion-mnist"}[cfg.dataset]
    net = G.domain_features(domain, run)
    size = x.shape[-1]
    win = 7 if size < 11 else 11  # SSIM's Gaussian window must fit in the image
    real_stats = G.feature_stats(xt, net, "real")

    def evaluate(model) -> dict[str, float]:
        out = translate(model, et, seed=run.seed)
        return {"l1": float((out - xt).abs().mean()), "ssim": float(ssim(out, xt, data_range=2.0, window_size=win)),
                "acc": float((net.predict(out) == yt).float().mean()), "fid": G.fid(real_stats, out, net)}, out

    def build(objective: str, rf: str | int):
        torch.manual_seed(run.seed)
        return make_pix2pix(1, 1, objective, depth=cfg.depth, base_width=cfg.width, receptive_field=rf,
                            d_width=cfg.d_width, image_size=size)

    metrics: dict[str, float] = {}
    untrained, _ = evaluate(build("L1", "pixel"))
    metrics["untrained_l1"] = untrained["l1"]
    metrics["real_acc"] = float((net.predict(xt) == yt).float().mean())  # the "ground truth" row
    samples = {}
    rf_main = _rf(cfg.receptive_field)
    with _threads(cfg.threads):
        runs = [(o, rf_main) for o in OBJECTIVES] + [("L1+cGAN", _rf(p)) for p in cfg.patches.split(",") if p.strip()]
        for objective, rf in runs:
            key = _slug(objective) if rf == rf_main else f"patch_{rf}"
            t0 = time.perf_counter()
            model = build(objective, rf)
            train_pix2pix(model, e, x, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                          lambda_l1=cfg.lambda_l1, seed=run.seed, run=run, log_prefix=f"{key}/",
                          checkpoint_path=run.out / "checkpoints" / f"{key}.pt")
            res, out = evaluate(model)
            metrics.update({f"{key}_{k}": v for k, v in res.items()})
            metrics[f"{key}_seconds"] = time.perf_counter() - t0
            samples[objective if rf == rf_main else f"L1+cGAN rf={rf}"] = out[:8]
    metrics[f"patch_{rf_main}_fid"] = metrics["l1_cgan_fid"]
    metrics[f"patch_{rf_main}_acc"] = metrics["l1_cgan_acc"]
    metrics["l1_cgan_l1_ratio"] = metrics["l1_cgan_l1"] / metrics["untrained_l1"]
    # the unconditional GAN alone ignores the input: its L1 error stays well above L1+cGAN's
    metrics["gan_l1_ratio_gap"] = (metrics["gan_l1"] - metrics["l1_cgan_l1"]) / metrics["untrained_l1"]
    run.log(0, **{"feature_net_test_acc": net.meta.get("test_acc", float("nan"))})
    if run.is_main:  # every FID above is only comparable on this feature network
        (run.out / "feature_net.txt").write_text(f"FID feature network: {net.fingerprint}\n")
        (run.out / "table.md").write_text(pix2pix_table_md(cfg, metrics, net.fingerprint))

    rows = [et[:8], xt[:8]] + list(samples.values())
    names = ["input (edges)", "target"] + list(samples)
    fig = image_grid(torch.cat(rows), nrow=8, title=" / ".join(names))
    run.save_figure("samples", fig)
    if run.verbose:
        print(f"FID on {net.fingerprint}")
        print(f"{'loss':10s} {'L1':>7s} {'SSIM':>7s} {'acc':>7s} {'FID':>8s}  paper FCN acc")
        for o in OBJECTIVES:
            k = _slug(o)
            print(f"{o:10s} {metrics[k + '_l1']:7.3f} {metrics[k + '_ssim']:7.3f} {metrics[k + '_acc']:7.3f} "
                  f"{metrics[k + '_fid']:8.2f}  {PIX2PIX_PAPER.values.get(k + '_acc', float('nan')):.2f}")
        print(f"{'real':10s} {'':7s} {'':7s} {metrics['real_acc']:7.3f}")
    return metrics


def pix2pix_table_md(cfg: Pix2PixConfig, m: dict[str, float], fingerprint: str = "") -> str:
    """The loss ablation (the paper's Table 1 rows) and the patch-size study as markdown tables."""
    lines = [f"# pix2pix on {cfg.dataset}: loss ablation (PatchGAN receptive field {cfg.receptive_field})", "",
             "| loss | L1 ↓ | SSIM ↑ | classifier acc. ↑ | domain FID ↓ | paper FCN acc. |", "|---|---:|---:|---:|---:|---:|"]
    for o in OBJECTIVES:
        k = _slug(o)
        paper = PIX2PIX_PAPER.values.get(f"{k}_acc")
        lines.append(f"| {o} | {m[k + '_l1']:.3f} | {m[k + '_ssim']:.3f} | {m[k + '_acc']:.3f} | {m[k + '_fid']:.2f} | "
                     f"{'-' if paper is None else f'{paper:.2f}'} |")
    lines.append(f"| real targets | 0 | 1 | {m['real_acc']:.3f} | - | {PIX2PIX_PAPER.values['real_acc']:.2f} |")
    rfs = [_rf(p) for p in cfg.patches.split(",") if p.strip()] + [_rf(cfg.receptive_field)]
    order = {"pixel": -1, "full": 10**6}  # PixelGAN first, then growing patches, then the whole image
    rfs = sorted(set(rfs), key=lambda r: order.get(r, r))
    lines += ["", "# PatchGAN receptive field (L1+cGAN)", "", "| receptive field | classifier acc. ↑ | domain FID ↓ |",
              "|---|---:|---:|"]
    for r in rfs:
        lines.append(f"| {'1x1 (PixelGAN)' if r == 'pixel' else 'full image' if r == 'full' else f'{r}x{r}'} | "
                     f"{m[f'patch_{r}_acc']:.3f} | {m[f'patch_{r}_fid']:.2f} |")
    if fingerprint:
        lines += ["", f"FID and accuracy on the domain classifier `{fingerprint}`."]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- CycleGAN
@dataclass
class CycleGANConfig:
    dataset: str = param("sklearn-digits-inverted", choices=("sklearn-digits-inverted", "mnist-usps"))
    size: int = param(8, ge=8, help="common side of both domains")
    epochs: int = param(8, ge=1)
    batch_size: int = param(32, ge=1)
    lr: float = param(3e-3, gt=0, help="Adam learning rate (paper: 2e-4, batch 1)")
    lambda_cyc: float = param(10.0, ge=0, help="cycle-consistency weight (paper: 10)")
    lambda_id: float = param(0.0, ge=0, help="identity weight, times lambda_cyc (paper: 0.5 for paintings)")
    pool_size: int = param(50, ge=0, help="image history buffer (paper: 50)")
    width: int = param(16, ge=1)
    n_blocks: int = param(1, ge=0, help="residual blocks per generator (paper: 6 or 9)")
    n_down: int = param(0, ge=0, help="stride-2 stages of the generators (paper: 2; 0 keeps 8x8 images whole)")
    norm: str = param("none", choices=("batch", "instance", "none"))
    # on 8x8 images a whole-image D is what makes seeds 0-2 all leave the identity map (a 5x5 patch D lets
    # some seeds settle on G = identity, which satisfies the cycle loss but not the target domain)
    receptive_field: str = param("full", help="PatchGAN receptive field")
    d_width: int = param(16, ge=1)
    variants: str = param("full,cycle,gan", help="ablation variants (comma-separated)")
    train_limit: int = param(0, ge=0, help="first N images of each domain (0: all)")
    eval_n: int = param(2000, ge=10)
    threads: int = param(1, ge=0)


CYCLEGAN_PAPER = Reference(
    "Zhu et al. 2017, Table 4 (FCN per-pixel acc., labels->photo): cycle alone 0.22, GAN alone 0.51, CycleGAN 0.52; "
    "ours: classifier accuracy on translations", {"cycle_acc": 0.22, "gan_acc": 0.51, "full_acc": 0.52})


@experiment(
    name="cyclegan-mnist-usps", module="2", showcase=("translations",), title="CycleGAN: cycle consistency and label preservation",
    paper=CYCLEGAN_PAPER,
    quick=CycleGANConfig(),
    full=CycleGANConfig(dataset="mnist-usps", size=16, epochs=20, batch_size=16, lr=2e-4, width=32, n_blocks=6,
                        n_down=1, norm="instance", receptive_field="full", d_width=64, eval_n=2000, threads=0),
    floor={"full_cycle_error": at_most(0.3), "full_acc": 0.4, "gan_cycle_gap": 0.3},
    primary="full_acc",
)
def cyclegan_digits(cfg: CycleGANConfig, run: Run) -> dict[str, float]:
    """CycleGAN between two unpaired digit domains; ablation cycle alone / GAN alone / full.

    Label preservation: a classifier of the target domain reads the translated image; its accuracy
    against the source label says whether G kept the digit. Quick: B = inverted digits, classified by
    the digits network on -x (an exact classifier of B). Full: USPS / MNIST domain networks.
    """
    from deepcourse.viz.figures import image_grid

    xa, ya, xb, yb = load_unpaired_digits(cfg.dataset, "train", cfg.size, run.data_root)
    ta, tya, tb, tyb = load_unpaired_digits(cfg.dataset, "test", cfg.size, run.data_root)
    if cfg.train_limit:
        xa, xb = xa[:cfg.train_limit], xb[:cfg.train_limit]
    ta, tya, tb, tyb = ta[:cfg.eval_n], tya[:cfg.eval_n], tb[:cfg.eval_n], tyb[:cfg.eval_n]
    if cfg.dataset == "sklearn-digits-inverted":
        net = G.domain_features("digits", run)
        as_a = lambda t: resize(t, 8)  # noqa: E731  images of A as the digits net reads them
        as_b = lambda t: -resize(t, 8)  # noqa: E731  B is -A: negate to read it with the digits net
        net_a = net_b = net
    else:
        net_a, net_b = G.domain_features("mnist", run), G.domain_features("usps", run)
        as_a = lambda t: resize(t, 28)  # noqa: E731
        as_b = lambda t: resize(t, 16)  # noqa: E731
    metrics: dict[str, float] = {}
    shown = {}
    with _threads(cfg.threads):
        for variant in [v.strip() for v in cfg.variants.split(",") if v.strip()]:
            t0 = time.perf_counter()
            torch.manual_seed(run.seed)
            model = make_cyclegan(1, 1, variant, width=cfg.width, n_blocks=cfg.n_blocks, n_down=cfg.n_down,
                                  receptive_field=_rf(cfg.receptive_field), d_width=cfg.d_width,
                                  image_size=cfg.size, norm=cfg.norm)
            train_cyclegan(model, xa, xb, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                           lambda_cyc=cfg.lambda_cyc, lambda_id=cfg.lambda_id, pool_size=cfg.pool_size,
                           seed=run.seed, run=run, log_prefix=f"{variant}/",
                           checkpoint_path=run.out / "checkpoints" / f"{variant}.pt")
            ab, ba = apply(model.g_ab, ta), apply(model.g_ba, tb)  # G(a), F(b)
            aba, bab = apply(model.g_ba, ab), apply(model.g_ab, ba)  # F(G(a)), G(F(b))
            cyc = 0.5 * float((aba - ta).abs().mean() + (bab - tb).abs().mean())
            acc_ab = float((net_b.predict(as_b(ab)) == tya).float().mean())  # label kept A -> B
            acc_ba = float((net_a.predict(as_a(ba)) == tyb).float().mean())
            metrics.update({f"{variant}_cycle_error": cyc, f"{variant}_acc_ab": acc_ab, f"{variant}_acc_ba": acc_ba,
                            f"{variant}_acc": 0.5 * (acc_ab + acc_ba),
                            f"{variant}_fid_b": G.fid(as_b(tb), as_b(ab), net_b),
                            f"{variant}_fid_a": G.fid(as_a(ta), as_a(ba), net_a),
                            f"{variant}_seconds": time.perf_counter() - t0})
            shown[variant] = (ab[:8], aba[:8])
    if "full" in shown and "gan" in shown:
        # without the cycle term nothing ties G(a) to a: its reconstruction error stays far higher
        metrics["gan_cycle_gap"] = metrics["gan_cycle_error"] - metrics["full_cycle_error"]
    metrics["real_acc_a"] = float((net_a.predict(as_a(ta)) == tya).float().mean())
    metrics["real_acc_b"] = float((net_b.predict(as_b(tb)) == tyb).float().mean())
    # untranslated A judged as B: what a generator that does nothing would score
    metrics["identity_fid_b"] = G.fid(as_b(tb), as_b(ta), net_b)
    if run.is_main:
        (run.out / "feature_net.txt").write_text(f"FID feature networks: A {net_a.fingerprint}, B {net_b.fingerprint}\n")
        (run.out / "table.md").write_text(cyclegan_table_md(cfg, metrics, list(shown)))
    rows = [ta[:8]] + [t for v in shown.values() for t in v]
    names = ["a"] + [f"{v}: G(a), F(G(a))" for v in shown]
    run.save_figure("translations", image_grid(torch.cat(rows), nrow=8, title=" / ".join(names)))
    if run.verbose:
        print(f"{'variant':8s} {'cycle':>7s} {'acc A->B':>9s} {'acc B->A':>9s} {'FID B':>8s} {'FID A':>8s}")
        for v in shown:
            print(f"{v:8s} {metrics[v + '_cycle_error']:7.3f} {metrics[v + '_acc_ab']:9.3f} {metrics[v + '_acc_ba']:9.3f} "
                  f"{metrics[v + '_fid_b']:8.2f} {metrics[v + '_fid_a']:8.2f}")
    return metrics


_CYCLE_NAMES = {"full": "CycleGAN (GAN + cycle)", "cycle": "cycle alone", "gan": "GAN alone"}


def cyclegan_table_md(cfg: CycleGANConfig, m: dict[str, float], variants: list[str]) -> str:
    """The cycle/GAN ablation: cycle error, label preservation both ways and FID of the translations."""
    a, b = ("MNIST", "USPS") if cfg.dataset == "mnist-usps" else ("digits", "inverted digits")
    lines = [f"# CycleGAN {a} ↔ {b} ({cfg.size}x{cfg.size}): ablation", "",
             f"| variant | cycle error ↓ | label kept {a}→{b} ↑ | label kept {b}→{a} ↑ | FID {b} ↓ | FID {a} ↓ "
             "| paper FCN acc. |", "|---|---:|---:|---:|---:|---:|---:|"]
    for v in variants:
        lines.append(f"| {_CYCLE_NAMES.get(v, v)} | {m[v + '_cycle_error']:.3f} | {m[v + '_acc_ab']:.3f} | "
                     f"{m[v + '_acc_ba']:.3f} | {m[v + '_fid_b']:.2f} | {m[v + '_fid_a']:.2f} | "
                     f"{CYCLEGAN_PAPER.values.get(f'{v}_acc', '-')} |")
    lines.append(f"| no translation (identity) | 0 | - | - | {m['identity_fid_b']:.2f} | - | - |")
    lines.append(f"| real images | - | {m['real_acc_b']:.3f} (real {b}) | {m['real_acc_a']:.3f} (real {a}) | - | - | - |")
    return "\n".join(lines) + "\n"
