r"""CycleGAN: unpaired image-to-image translation with cycle consistency (Zhu et al. 2017).

Two generators, :math:`G: A \to B` and :math:`F: B \to A`, and two discriminators, :math:`D_B` (real B vs
G(a)) and :math:`D_A` (real A vs F(b)). The full objective (eq. 3 of the paper) is

.. math:: \mathcal{L} = \mathcal{L}_{GAN}(G, D_B) + \mathcal{L}_{GAN}(F, D_A)
          + \lambda_{cyc}\,(\lVert F(G(a)) - a\rVert_1 + \lVert G(F(b)) - b\rVert_1)
          [+ \lambda_{id}\lambda_{cyc}(\lVert G(b) - b\rVert_1 + \lVert F(a) - a\rVert_1)]

with :math:`\lambda_{cyc} = 10`. Sec. 4 of the paper replaces the log-likelihood adversarial loss by the
least-squares loss (Mao et al. 2017; :func:`deepcourse.gan.losses.d_loss_lsgan`): D minimises
:math:`\tfrac12[(D(y) - 1)^2 + D(G(x))^2]`, G minimises :math:`(D(G(x)) - 1)^2`, which is twice Mao's
:func:`~deepcourse.gan.losses.g_loss_lsgan` (the paper and its code drop the ½); it trains more stably.
The optional identity term (sec. 5.2, weight 0.5 x :math:`\lambda_{cyc}` in the reference code) keeps
colours when translating paintings to photos.

The discriminators are updated on a history of 50 previously generated images rather than only the
latest ones (Shrivastava et al. 2017, sec. 2.3): D then does not forget the mistakes of earlier
generators, which damps oscillation. :class:`ImageHistory` is that buffer.

``variant`` selects the paper's ablation (Table 4): ``"full"``, ``"cycle"`` (cycle loss alone, no
discriminators) and ``"gan"`` (adversarial losses alone, no cycle term).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from deepcourse.cnn import ResnetGenerator
from deepcourse.core import TensorLoader, fit

from .losses import d_loss_lsgan, g_loss_lsgan
from .patchgan import PatchGAN

__all__ = ["VARIANTS", "ImageHistory", "CycleGAN", "CycleGANTrainer", "make_cyclegan", "train_cyclegan"]

VARIANTS = ("full", "cycle", "gan")


class ImageHistory:
    """Buffer of up to ``size`` past generated images (Shrivastava et al. 2017; CycleGAN's ImagePool).

    ``query(images)`` returns a batch of the same size to show the discriminator: while the buffer is
    filling, each new image is stored and returned; once full, each new image is, with probability 1/2,
    returned as is, and otherwise swapped with a random stored image, which is returned in its place.
    ``size=0`` disables the buffer. Draws come from the buffer's own seeded generator.
    """

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be an int >= 0, got {size!r}")
        self.size = size
        self.images: list[Tensor] = []
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: Tensor) -> Tensor:
        if self.size == 0:
            return images.detach()
        out = []
        for img in images.detach():
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif torch.rand((), generator=self.gen) < 0.5:
                j = int(torch.randint(len(self.images), (), generator=self.gen))
                old = self.images[j]
                self.images[j] = img.clone()
                out.append(old.to(img.device))
            else:
                out.append(img)
        return torch.stack(out)

    def state_dict(self) -> dict:
        return {"images": [t.cpu() for t in self.images], "gen": self.gen.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.images = [t.clone() for t in state["images"]]
        self.gen.set_state(state["gen"])


class CycleGAN(nn.Module):
    """``g_ab`` (G: A -> B), ``g_ba`` (F: B -> A), ``d_a``, ``d_b`` (None for the cycle-alone variant)."""

    def __init__(self, g_ab: nn.Module, g_ba: nn.Module, d_a: nn.Module | None, d_b: nn.Module | None,
                 variant: str = "full") -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
        if variant != "cycle" and (d_a is None or d_b is None):
            raise ValueError(f"variant {variant!r} needs both discriminators")
        self.g_ab, self.g_ba, self.d_a, self.d_b, self.variant = g_ab, g_ba, d_a, d_b, variant

    def forward(self, a: Tensor) -> Tensor:
        return self.g_ab(a)


def make_cyclegan(channels_a: int = 1, channels_b: int = 1, variant: str = "full", width: int = 32, n_blocks: int = 3,
                  n_down: int = 1, receptive_field: str | int = "70", d_width: int = 64, image_size: int | None = None,
                  norm: str = "instance") -> CycleGAN:
    """ResNet generators (the paper: 9 blocks at 256x256, 6 at 128x128) and PatchGAN discriminators (70x70)."""
    g_ab = ResnetGenerator(channels_a, channels_b, width=width, n_blocks=n_blocks, n_down=n_down, norm=norm)
    g_ba = ResnetGenerator(channels_b, channels_a, width=width, n_blocks=n_blocks, n_down=n_down, norm=norm)
    d_a = d_b = None
    if variant != "cycle":
        d_a = PatchGAN(channels_a, receptive_field, width=d_width, norm=norm, image_size=image_size)
        d_b = PatchGAN(channels_b, receptive_field, width=d_width, norm=norm, image_size=image_size)
    return CycleGAN(g_ab, g_ba, d_a, d_b, variant)


class CycleGANTrainer:
    """One step on an unpaired batch ``(a, b)``: both generators together, then both discriminators on
    images drawn from the history buffers (the reference implementation's order)."""

    def __init__(self, model: CycleGAN, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None,
                 lambda_cyc: float = 10.0, lambda_id: float = 0.0, pool_size: int = 50, seed: int = 0) -> None:
        self.model, self.opt_g, self.opt_d = model, opt_g, opt_d
        self.lambda_cyc, self.lambda_id = lambda_cyc, lambda_id
        self.pool_a, self.pool_b = ImageHistory(pool_size, seed), ImageHistory(pool_size, seed + 1)

    def __call__(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        a, b = batch
        m = self.model
        fake_b, fake_a = m.g_ab(a), m.g_ba(b)  # G(a), F(b)
        out: dict[str, Tensor] = {}
        g_loss = a.new_zeros(())
        use_gan, use_cyc = m.variant != "cycle", m.variant != "gan"
        if use_gan:
            for p in (*m.d_a.parameters(), *m.d_b.parameters()):
                p.requires_grad_(False)  # G's step must not accumulate gradients into D
            # the paper's (D(G(x)) - 1)^2 is twice Mao's 1/2 (D - 1)^2: the 2 keeps lambda_cyc = 10 the paper's
            adv = 2 * (g_loss_lsgan(m.d_b(fake_b)) + g_loss_lsgan(m.d_a(fake_a)))
            g_loss = g_loss + adv
            out["g_adv"] = adv.detach()
        if use_cyc:
            cyc = (m.g_ba(fake_b) - a).abs().mean() + (m.g_ab(fake_a) - b).abs().mean()
            g_loss = g_loss + self.lambda_cyc * cyc
            out["cycle"] = cyc.detach()
        if self.lambda_id > 0:
            idt = (m.g_ab(b) - b).abs().mean() + (m.g_ba(a) - a).abs().mean()
            g_loss = g_loss + self.lambda_id * self.lambda_cyc * idt
            out["identity"] = idt.detach()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        out["g_loss"] = g_loss.detach()
        if use_gan:
            for p in (*m.d_a.parameters(), *m.d_b.parameters()):
                p.requires_grad_(True)
            d_b_loss = d_loss_lsgan(m.d_b(b), m.d_b(self.pool_b.query(fake_b)))
            d_a_loss = d_loss_lsgan(m.d_a(a), m.d_a(self.pool_a.query(fake_a)))
            self.opt_d.zero_grad(set_to_none=True)
            (d_a_loss + d_b_loss).backward()
            self.opt_d.step()
            out["d_a_loss"], out["d_b_loss"] = d_a_loss.detach(), d_b_loss.detach()
        return out


def train_cyclegan(model: CycleGAN, xa: Tensor, xb: Tensor, *, epochs: int, batch_size: int = 1, lr: float = 2e-4,
                   lambda_cyc: float = 10.0, lambda_id: float = 0.0, pool_size: int = 50, seed: int = 0,
                   run: Any = None, log_prefix: str = "", checkpoint_path: str | Path | None = None,
                   max_steps: int | None = None) -> dict:
    """Train on unpaired sets ``xa``, ``xb`` (truncated to the shorter; each epoch pairs them at random)
    with Adam(lr, betas=(0.5, 0.999)) through ``core.fit``; the history buffers are checkpointed too."""
    n = min(len(xa), len(xb))
    device = run.device if run is not None else torch.device("cpu")
    model.to(device).train()
    betas = (0.5, 0.999)
    opt_g = torch.optim.Adam([*model.g_ab.parameters(), *model.g_ba.parameters()], lr=lr, betas=betas)
    opt_d = None
    models: dict[str, nn.Module] = {"g_ab": model.g_ab, "g_ba": model.g_ba}
    optimizers: dict[str, torch.optim.Optimizer] = {"g": opt_g}
    if model.variant != "cycle":
        opt_d = torch.optim.Adam([*model.d_a.parameters(), *model.d_b.parameters()], lr=lr, betas=betas)
        models |= {"d_a": model.d_a, "d_b": model.d_b}
        optimizers["d"] = opt_d
    step = CycleGANTrainer(model, opt_g, opt_d, lambda_cyc, lambda_id, pool_size, seed)
    # the two domains are unrelated, so shuffling them with one shared permutation still pairs them at random
    gen = torch.Generator().manual_seed(seed)
    xb_perm = xb[torch.randperm(len(xb), generator=gen)[:n]]
    loader = TensorLoader(xa[:n], xb_perm, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
    state = fit(step, loader, epochs=epochs, max_steps=max_steps, model=models, optimizer=optimizers, run=run,
                device=device, log_prefix=log_prefix, checkpoint_path=checkpoint_path, desc=log_prefix or "cyclegan",
                extra_state={"pool_a": step.pool_a, "pool_b": step.pool_b}, log_every=25)
    return dict(state.metrics)
