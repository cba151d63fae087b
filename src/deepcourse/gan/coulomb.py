r"""Coulomb GAN: the discriminator learns an electric potential, the generator climbs it.

Unterthiner et al. 2018, "Coulomb GANs: Provably Optimal Nash Equilibria via Potential Fields".
Real samples are positive charges, generated samples negative ones. With the Plummer kernel

.. math:: k(a, b) = \frac{1}{\left(\sqrt{\lVert a - b\rVert^2 + \epsilon^2}\right)^d}

the potential of the charge difference :math:`\rho = p_{data} - p_{model}` is estimated from a
batch of ``N_y`` reals and ``N_x`` fakes (eq. 11 of the paper):

.. math:: \hat\Phi(a) = \frac{1}{N_y}\sum_i k(a, y_i) - \frac{1}{N_x}\sum_i k(a, x_i).

D is regressed onto :math:`\hat\Phi` at every sample and G moves its samples uphill,
:math:`-\tfrac12\tfrac{1}{N_x}\sum_i D(x_i)`. Fakes repel each other and are pulled by reals, so a
generator that sits on a few modes is pushed out to the empty ones: the only Nash equilibrium is
:math:`p_{model} = p_{data}`. With ``d >= dim - 2`` the kernel is the Green's function of the
Laplacian (exactly Coulomb's law for ``d = dim - 2``), and ``eps`` smooths the singularity at 0.

Convention, checked against the authors' code (github.com/bioinf-jku/coulomb_gan, ``plummer_kernel``): their
argument ``dimension`` is the dimension ``m`` of the Coulomb law ``1/r^(m-2)``, and their kernel is
``(r^2 + eps^2)^(-(m - 2)/2)``; their default ``dimension=3`` with ``eps=1`` is ``d = 1`` here (``1 / sqrt(r^2 +
eps^2)``). Their training loop (PyTorch version): one G step on ``mean D(x)`` (their potential has the opposite
sign: fakes positive), then one D step regressing D onto the batch potential of the same, detached fakes and a
real batch by mean squared error, Adam with default betas, the same learning rate (1e-4) for both networks.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["plummer_kernel", "coulomb_potential", "coulomb_d_loss", "coulomb_g_loss", "PeakScaled"]


def _check_eps_d(eps: float, d: float) -> None:
    if not eps > 0:
        raise ValueError(f"eps must be > 0 (got {eps}); eps = 0 makes k(a, a) infinite")
    if not d > 0:
        raise ValueError(f"d must be > 0 (got {d})")


def plummer_kernel(a: Tensor, b: Tensor, eps: float = 1.0, d: float = 3.0) -> Tensor:
    """``k(a_i, b_j) = (||a_i - b_j||^2 + eps^2)^(-d/2)`` for every pair: ``(Na, Nb)``.

    Inputs of any shape ``(N, ...)`` are flattened to ``(N, D)``.
    """
    _check_eps_d(eps, d)
    a2 = a.reshape(a.shape[0], -1)  # (Na, D)
    b2 = b.reshape(b.shape[0], -1)  # (Nb, D)
    sq = (a2.unsqueeze(1) - b2.unsqueeze(0)).pow(2).sum(-1)  # (Na, Nb); exact, no cdist cancellation
    return (sq + eps ** 2).pow(-d / 2)


def coulomb_potential(a: Tensor, real: Tensor, fake: Tensor, eps: float = 1.0, d: float = 3.0) -> Tensor:
    """The estimate ``Phi(a) = mean_i k(a, y_i) - mean_i k(a, x_i)`` at each row of ``a``: ``(Na,)``.

    Unterthiner et al. 2018, eq. 11. Self-interaction is kept, as in the authors' code (their diagonal fix is
    commented out): ``k(a, a) = eps^-d`` is finite, but it shifts the target at each sample point by
    ``+eps^-d / N_y`` (a real) or ``-eps^-d / N_x`` (a fake), so at the sample points this is not an unbiased
    estimate of the population potential.
    """
    return plummer_kernel(a, real, eps, d).mean(1) - plummer_kernel(a, fake, eps, d).mean(1)


def coulomb_d_loss(d_real: Tensor, d_fake: Tensor, phi_real: Tensor, phi_fake: Tensor,
                   reduction: str = "mean") -> Tensor:
    r"""Regress D onto the potential (the discriminator update of the paper):
    :math:`\tfrac12\sum_i (D(x_i) - \hat\Phi(x_i))^2 + \tfrac12\sum_i (D(y_i) - \hat\Phi(y_i))^2`.

    ``reduction="sum"`` is the formula as written; ``"mean"`` divides by ``N_x + N_y`` (only a
    learning-rate scale, but it keeps the step size independent of the batch size). The targets
    are detached: D chases the potential, it does not move it.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum' (got {reduction!r})")
    total = 0.5 * ((d_fake - phi_fake.detach()) ** 2).sum() + 0.5 * ((d_real - phi_real.detach()) ** 2).sum()
    return total / (d_fake.numel() + d_real.numel()) if reduction == "mean" else total


def coulomb_g_loss(d_fake: Tensor) -> Tensor:
    r"""Generator update: :math:`-\tfrac12\,\tfrac{1}{N_x}\sum_i D(x_i)`, descending it moves the
    generated samples up the learned potential, towards reals and away from other fakes."""
    return -0.5 * d_fake.mean()


class PeakScaled(nn.Module):
    r"""A discriminator that outputs the potential in units of the kernel's peak: ``D(x) = eps^-d * net(x)``.

    The batch potential spans the kernel's peak ``k(a, a) = eps^-d``: with ``d = 3`` and ``eps = 0.125``, a fake
    inside a collapsed cluster has :math:`\hat\Phi \approx -512` and a real inside a mode about +20, while an MLP
    starts with outputs of order 0.1 and Adam moves each weight by about ``lr`` per step. An unscaled D needs
    thousands of steps just to reach the targets' magnitude; meanwhile it gives reals and fakes nearly the same
    value, its gradient is no guide to G, and G collapses or leaves the data (issue 17). With the scale folded
    into the output, ``net`` regresses onto :math:`\hat\Phi / \epsilon^{-d}`, numbers of order 0.01-1, and
    tracks the potential from the start. The minimiser of the regression and G's objective are unchanged (D is
    the same function class times a constant); only the optimisation is conditioned.
    """

    def __init__(self, net: nn.Module, eps: float, d: float):
        super().__init__()
        _check_eps_d(eps, d)
        self.net, self.scale = net, float(eps) ** -float(d)

    def forward(self, x: Tensor) -> Tensor:
        return self.scale * self.net(x)
