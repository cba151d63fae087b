"""DCGAN (Radford et al. 2016) on MNIST, Fashion-MNIST and CIFAR-10.

The architecture guidelines of Section 3: strided convolutions instead of pooling, batch norm in both
networks except G's output and D's input, ReLU in G with a tanh output, LeakyReLU(0.2) in D, weights
from N(0, 0.02) and Adam(2e-4, beta1 0.5). Each experiment trains on its own dataset (the quick presets
on a fixed subset of it) and reports the domain FID of the samples against the untrained G's, plus
samples, slerp interpolations, latent arithmetic and nearest training neighbours.
"""

from __future__ import annotations

from deepcourse.core import Reference, Run, at_least, at_most, experiment

from ..image_gan import ImageGANConfig, image_gan_experiment


def _quick(dataset: str, base: int = 16, steps: int = 300, lr: float = 1e-3) -> ImageGANConfig:
    # a narrow DCGAN on 2,000 training images for a few hundred D steps of batch 32: a few CPU seconds.
    # lr 1e-3 rather than the paper's 2e-4, which leaves the FID ratio at 0.2-0.4 after 300 steps
    return ImageGANConfig(dataset=dataset, subset=2000, fid_features="small", base=base, batch_size=32, steps=steps,
                          lr=lr, eval_every=steps // 2, n_eval=500)


def _full(dataset: str, steps: int, eval_every: int) -> ImageGANConfig:
    return ImageGANConfig(dataset=dataset, latent_dim=100, base=64, batch_size=128, steps=steps,
                          eval_every=eval_every, n_eval=5000)


@experiment(
    name="dcgan-mnist", module="2", showcase=("samples",),
    title="DCGAN on MNIST: samples, interpolation, arithmetic and domain FID",
    paper=Reference("Radford et al. 2016 (architecture guidelines; no MNIST FID reported)", {}),
    quick=_quick("mnist"), full=_full("mnist", 10000, 1000),
    # seeds 0-4, threads 1 / 2: FID ratio 0.06-0.09 / 0.07-0.09, classes 9-10; a frozen G: 0.81 and 2 classes
    floor={"fid_ratio": at_most(0.3), "classes_covered": at_least(8)}, primary="fid", threads=1,
)
def dcgan_mnist(cfg: ImageGANConfig, run: Run) -> dict[str, float]:
    """DCGAN (strided convs, BN, ReLU/Tanh G, LeakyReLU D, Adam beta1 0.5): FID falls far below the untrained G's."""
    return image_gan_experiment(cfg, run, "DCGAN")


@experiment(
    name="dcgan-fashion", module="2", title="DCGAN on Fashion-MNIST",
    paper=Reference("Radford et al. 2016 (recipe)", {}),
    quick=_quick("fashion-mnist"), full=_full("fashion-mnist", 10000, 1000),
    # seeds 0-4, threads 1 / 2: FID ratio 0.13-0.19 / 0.12-0.19
    floor={"fid_ratio": at_most(0.3)}, primary="fid", threads=1,
)
def dcgan_fashion(cfg: ImageGANConfig, run: Run) -> dict[str, float]:
    """DCGAN on clothing images: FID far below the untrained G's."""
    return image_gan_experiment(cfg, run, "DCGAN")


@experiment(
    name="dcgan-cifar10", module="2", title="DCGAN on CIFAR-10 (full run for a GPU)",
    paper=Reference("Radford et al. 2016; FID of DCGAN on CIFAR-10 ~37 with Inception features (Heusel et al. 2017)",
                    {}),
    # quick: base 8 and lr 2e-3 (a base-16 G, or lr 1e-3 for 300 steps, oscillates more: ratios up to 0.8)
    quick=_quick("cifar10-jpeg", base=8, steps=200, lr=2e-3), full=_full("cifar10-jpeg", 30000, 2500),
    # seeds 0-4, threads 1 / 2: FID ratio 0.16 0.19 0.09 0.18 0.15 / 0.33 0.22 0.18 0.26 0.19; a frozen G: 0.82
    floor={"fid_ratio": at_most(0.45)}, primary="fid", threads=1,
)
def dcgan_cifar10(cfg: ImageGANConfig, run: Run) -> dict[str, float]:
    """DCGAN at 32x32x3 (4 -> 8 -> 16 -> 32): FID far below the untrained G's."""
    return image_gan_experiment(cfg, run, "DCGAN")
