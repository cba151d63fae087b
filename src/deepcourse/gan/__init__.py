"""Module 2: generative adversarial networks (GAN, DCGAN, WGAN, WGAN-GP, Coulomb GAN, pix2pix, CycleGAN).

* ``losses``: every GAN objective beside its formula (minimax, non-saturating, LSGAN, WGAN, gradient
  penalty, conditional GAN + L1).
* ``coulomb``: the Plummer kernel and the Coulomb GAN potential and losses.
* ``networks``: MLP and DCGAN generators/discriminators (registered models).
* ``patchgan``: the PatchGAN discriminator with a selectable receptive field (registered).
* ``training``: ``step(batch)`` objects for ``core.fit`` (GAN, WGAN/WGAN-GP, Coulomb) and ``train_gan``.
* ``latent``: interpolation (lerp/slerp), latent arithmetic, nearest training neighbours.
* ``image_gan``: the shared driver of the image-GAN experiments (train with domain-FID checkpoints).
* ``pix2pix``, ``cyclegan``: the two image-to-image translation models and their training.
* ``data``: paired edge sets, the MNIST <-> USPS pair, and loaders of the pix2pix / CycleGAN releases.

The experiments (the package ``deepcourse.gan.experiments``, one file per paper or claim) are imported
by the registry, not here.
"""

from . import coulomb, cyclegan, data, image_gan, latent, losses, networks, patchgan, pix2pix, training
from .cyclegan import VARIANTS, CycleGAN, CycleGANTrainer, ImageHistory, make_cyclegan, train_cyclegan
from .data import load_paired, load_unpaired_digits, resize, sobel_edges
from .image_gan import ImageGANConfig, build_image_gan, train_image_gan
from .networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, dcgan_optimizers
from .patchgan import PatchGAN
from .pix2pix import OBJECTIVES, Pix2Pix, Pix2PixTrainer, make_pix2pix, train_pix2pix, translate
from .training import CoulombStep, GANStep, WGANStep, generate, train_gan, wgan_gp_optimizers, wgan_optimizers

__all__ = [
    "coulomb", "cyclegan", "data", "image_gan", "latent", "losses", "networks", "patchgan", "pix2pix", "training",
    "VARIANTS", "CycleGAN", "CycleGANTrainer", "ImageHistory", "make_cyclegan", "train_cyclegan",
    "load_paired", "load_unpaired_digits", "resize", "sobel_edges",
    "ImageGANConfig", "build_image_gan", "train_image_gan",
    "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "dcgan_optimizers",
    "PatchGAN",
    "OBJECTIVES", "Pix2Pix", "Pix2PixTrainer", "make_pix2pix", "train_pix2pix", "translate",
    "CoulombStep", "GANStep", "WGANStep", "generate", "train_gan", "wgan_gp_optimizers", "wgan_optimizers",
]
