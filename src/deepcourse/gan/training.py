"""GAN training procedures as ``step(real_batch) -> metrics`` callables for :func:`deepcourse.core.fit`.

Each call consumes one real minibatch and makes one discriminator/critic update; the generator is
updated on every ``k``-th call. That is Algorithm 1 of Goodfellow et al. 2014 (``k`` D steps, each
on a fresh minibatch of data and noise, then one G step) and Algorithm 1 of Arjovsky et al. 2017
(``n_critic`` critic steps per G step). ``fit`` is given ``optimizer={"g": ..., "d": ...}`` and
leaves the updates to the step, so checkpointing, resuming and logging come from the platform.

* :class:`GANStep`: minimax / non-saturating / least-squares losses (Goodfellow et al. 2014;
  Mao et al. 2017).
* :class:`WGANStep`: RMSProp + weight clipping (Arjovsky et al. 2017), or the gradient penalty
  (Gulrajani et al. 2017) with Adam(1e-4, betas (0, 0.9)).
* :class:`CoulombStep`: D regressed onto the Plummer potential, G climbs it (Unterthiner et al. 2018).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from deepcourse.core import TensorLoader, fit, predict

from . import coulomb as C
from . import losses as L

__all__ = ["GANStep", "WGANStep", "CoulombStep", "sample_latent", "generate", "train_gan", "wgan_optimizers",
           "wgan_gp_optimizers"]


def sample_latent(n: int, latent_dim: int, device: torch.device | str | None = None,
                  generator: torch.Generator | None = None) -> Tensor:
    """``z ~ N(0, I)``: ``(n, latent_dim)``."""
    return torch.randn(n, latent_dim, device=device, generator=generator)


def generate(g: nn.Module, n: int, batch_size: int = 1000, device: torch.device | str | None = None,
             seed: int | None = None) -> Tensor:
    """``n`` samples of ``g`` in eval mode (BN uses running statistics), on the CPU; ``seed`` fixes z."""
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    z = sample_latent(n, g.latent_dim, generator=gen)  # (n, latent_dim)
    return predict(g, z, batch_size, device=device)


class _Step:
    def __init__(self, g: nn.Module, d: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, k: int):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k (discriminator steps per generator step) must be an int >= 1 (got {k!r})")
        self.g, self.d, self.opt_g, self.opt_d, self.k = g, d, opt_g, opt_d, k
        self.calls = 0  # D steps so far
        self.g_steps = 0
        self._since_g = 0  # D steps since the last G step
        self._last_g: dict[str, float] = {}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"g": self.opt_g, "d": self.opt_d}

    @property
    def models(self) -> dict[str, nn.Module]:
        return {"g": self.g, "d": self.d}

    # the counters survive a resume (so G steps stay on the same phase of the k-cycle)
    def state_dict(self) -> dict:
        return {"calls": self.calls, "g_steps": self.g_steps, "since_g": self._since_g}

    def load_state_dict(self, s: dict) -> None:
        self.calls, self.g_steps, self._since_g = s["calls"], s["g_steps"], s["since_g"]

    def d_steps_per_g_step(self) -> int:
        """D steps before the next G step (``k``; WGAN's warm-up trains the critic longer at first)."""
        return self.k

    def _z(self, n: int, like: Tensor) -> Tensor:
        return sample_latent(n, self.g.latent_dim, device=like.device)

    def _d_update(self, loss: Tensor) -> None:
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()

    def _g_update(self, loss: Tensor) -> None:
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()  # also fills D's grads; D's zero_grad before its next step discards them
        self.opt_g.step()

    def __call__(self, batch: Any) -> dict[str, Any]:
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        self.calls += 1
        self._since_g += 1
        out = self.d_step(real)
        if self._since_g >= self.d_steps_per_g_step():
            self._last_g = self.g_step(real.shape[0], real)
            self.g_steps += 1
            self._since_g = 0
        out.update(self._last_g)
        return out

    def d_step(self, real: Tensor) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def g_step(self, n: int, like: Tensor) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError


class GANStep(_Step):
    """Algorithm 1 of Goodfellow et al. 2014 with a choice of objective.

    ``loss``: ``"minimax"`` (G descends ``log(1 - D(G(z)))``, eq. 1), ``"nonsaturating"`` (G ascends
    ``log D(G(z))``, Section 3) or ``"lsgan"`` (Mao et al. 2017). ``k``: D steps per G step
    (the paper used k = 1, the cheapest).
    """

    def __init__(self, g, d, opt_g, opt_d, loss: str = "nonsaturating", k: int = 1):
        super().__init__(g, d, opt_g, opt_d, k)
        if loss not in L.G_LOSSES:
            raise ValueError(f"loss must be one of {sorted(L.G_LOSSES)} (got {loss!r})")
        self.loss = loss
        self.d_loss_fn, self.g_loss_fn = L.D_LOSSES[loss], L.G_LOSSES[loss]

    def d_step(self, real):
        with torch.no_grad():
            fake = self.g(self._z(real.shape[0], real))  # no graph into G: this step only moves D
        d_real, d_fake = self.d(real), self.d(fake)
        loss = self.d_loss_fn(d_real, d_fake)
        self._d_update(loss)
        return {"d_loss": loss.detach(), "d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}

    def g_step(self, n, like):
        loss = self.g_loss_fn(self.d(self.g(self._z(n, like))))
        self._g_update(loss)
        return {"g_loss": float(loss.detach())}


def wgan_optimizers(g: nn.Module, d: nn.Module, lr: float = 5e-5) -> dict[str, torch.optim.Optimizer]:
    """RMSProp, lr 5e-5 (Arjovsky et al. 2017, Algorithm 1 defaults): momentum-based optimisers
    (Adam) made the clipped critic unstable in the paper's experiments (Section 4)."""
    return {"g": torch.optim.RMSprop(g.parameters(), lr=lr), "d": torch.optim.RMSprop(d.parameters(), lr=lr)}


def wgan_gp_optimizers(g: nn.Module, d: nn.Module, lr: float = 1e-4) -> dict[str, torch.optim.Optimizer]:
    """Adam(lr 1e-4, betas (0, 0.9)) for both (Gulrajani et al. 2017, Algorithm 1 defaults)."""
    return {"g": torch.optim.Adam(g.parameters(), lr=lr, betas=(0.0, 0.9)),
            "d": torch.optim.Adam(d.parameters(), lr=lr, betas=(0.0, 0.9))}


class WGANStep(_Step):
    """The WGAN critic/generator updates (Arjovsky et al. 2017, Algorithm 1).

    The critic ascends ``mean f(x) - mean f(G(z))`` ``n_critic = 5`` times per generator step;
    after each update its weights are clipped to ``[-clip, clip]`` (c = 0.01) to keep ``f`` in a
    family of K-Lipschitz functions. With ``gp_weight`` (lambda = 10, Gulrajani et al. 2017) the
    Lipschitz constraint is instead a penalty on the critic's gradient norm at random
    interpolates, and no clipping is done (``clip=None``). ``wasserstein`` in the returned metrics
    is the critic's estimate of W(P_r, P_g) on the batch: the quantity the WGAN paper plots.

    Warm-up (the authors' code): for the first ``warmup_g_steps`` generator steps the critic takes
    ``warmup_n_critic = 100`` steps per G step, so that its estimate is close to the supremum from the
    start. Without it the estimate first *rises* while an untrained critic learns, and a curve read
    as "lower is better" is wrong exactly where the samples change most.
    """

    def __init__(self, g, d, opt_g, opt_d, n_critic: int = 5, clip: float | None = 0.01, gp_weight: float | None = None,
                 warmup_g_steps: int = 0, warmup_n_critic: int = 100):
        super().__init__(g, d, opt_g, opt_d, n_critic)
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be > 0 or None (got {clip})")
        if gp_weight is not None and not gp_weight > 0:
            raise ValueError(f"gp_weight must be > 0 or None (got {gp_weight})")
        if warmup_g_steps < 0 or warmup_n_critic < 1:
            raise ValueError(f"warmup_g_steps must be >= 0 and warmup_n_critic >= 1 (got {warmup_g_steps}, "
                             f"{warmup_n_critic})")
        self.clip, self.gp_weight = clip, gp_weight
        self.warmup_g_steps, self.warmup_n_critic = warmup_g_steps, warmup_n_critic

    def d_steps_per_g_step(self) -> int:
        return self.warmup_n_critic if self.g_steps < self.warmup_g_steps else self.k

    def d_step(self, real):
        with torch.no_grad():
            fake = self.g(self._z(real.shape[0], real))
        f_real, f_fake = self.d(real), self.d(fake)
        loss = L.critic_loss_wasserstein(f_real, f_fake)
        out = {"wasserstein": -loss.detach()}
        if self.gp_weight is not None:
            gp = L.gradient_penalty(self.d, real, fake, self.gp_weight)
            loss = loss + gp
            out["gp"] = gp.detach()
        self._d_update(loss)
        if self.clip is not None:
            with torch.no_grad():
                for p in self.d.parameters():
                    p.clamp_(-self.clip, self.clip)
        out["d_loss"] = loss.detach()
        return out

    def g_step(self, n, like):
        loss = L.g_loss_wasserstein(self.d(self.g(self._z(n, like))))
        self._g_update(loss)
        return {"g_loss": float(loss.detach())}


class CoulombStep(_Step):
    """Coulomb GAN (Unterthiner et al. 2018): D is regressed onto the batch estimate of the
    potential ``Phi`` (Plummer kernel, ``eps``, ``d``), then G minimises ``-1/2 mean D(G(z))``.

    By default D is fitted first and a fresh batch of fakes is drawn for the G step (as in Algorithm 1
    of the GAN paper). ``g_first=True`` is the authors' loop (github.com/bioinf-jku/coulomb_gan, PyTorch
    ``coulomb_gan.py``): one G step on ``G(z)`` first, then D is regressed onto the potential at *those*
    fakes (detached, taken before G's update) and the real batch; ``k`` must then be 1.

    ``direct=True`` is an ablation without a learned D: G climbs the batch estimate of the potential
    itself (the field of the current reals and fakes, differentiated through its first argument), and
    ``d`` is left untrained.
    """

    def __init__(self, g, d, opt_g, opt_d, eps: float = 1.0, dim: float = 3.0, k: int = 1, direct: bool = False,
                 g_first: bool = False):
        super().__init__(g, d, opt_g, opt_d, k)
        C._check_eps_d(eps, dim)
        if g_first and k != 1:
            raise ValueError(f"g_first (the authors' loop: one G step, then one D step) needs k = 1 (got {k})")
        self.eps, self.dim, self.direct, self.g_first = eps, dim, direct, g_first and not direct
        self._real: Tensor | None = None

    def d_step(self, real):
        self._real = real
        if self.direct:  # no learned D to fit: G reads the batch potential itself in g_step
            return {}
        if self.g_first:
            fake = self.g(self._z(real.shape[0], real))
            g_loss = C.coulomb_g_loss(self.d(fake))
            self._g_update(g_loss)
            self._g_first_loss = float(g_loss.detach())
            fake = fake.detach()  # the same fakes, as G produced them before its update
        else:
            with torch.no_grad():
                fake = self.g(self._z(real.shape[0], real))
        with torch.no_grad():
            phi_real = C.coulomb_potential(real, real, fake, self.eps, self.dim)  # (N,)
            phi_fake = C.coulomb_potential(fake, real, fake, self.eps, self.dim)  # (N,)
        loss = C.coulomb_d_loss(self.d(real), self.d(fake), phi_real, phi_fake)
        self._d_update(loss)
        return {"d_loss": loss.detach(), "phi_fake": phi_fake.mean()}

    def g_step(self, n, like):
        if self.g_first:  # G already stepped at the start of d_step
            return {"g_loss": self._g_first_loss}
        fake = self.g(self._z(n, like))
        if self.direct:
            phi = C.coulomb_potential(fake, self._real, fake.detach(), self.eps, self.dim)  # (N,)
            loss = C.coulomb_g_loss(phi)
        else:
            loss = C.coulomb_g_loss(self.d(fake))
        self._g_update(loss)
        return {"g_loss": float(loss.detach())}


def train_gan(step: _Step, data: Tensor, *, batch_size: int, steps: int, run=None, name: str = "",
              log_every: int = 100, seed: int = 0, callbacks=(), device=None):
    """Train with :func:`deepcourse.core.fit` for ``steps`` discriminator steps over shuffled ``data``.

    ``name`` prefixes the logged metrics and names the checkpoint, so that several GANs trained in
    one run (a comparison) each resume on their own.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1 (got {steps})")
    loader = TensorLoader(data, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
    ckpt = None if run is None else run.out / (f"checkpoint_{name.strip('/').replace('/', '_')}.pt" if name else "checkpoint.pt")
    return fit(step, loader, max_steps=steps, model=step.models, optimizer=step.optimizers, run=run,
               log_every=log_every, desc=name or "gan", extra_state={"step": step}, checkpoint_path=ckpt,
               log_prefix=name, callbacks=callbacks, device=device)
