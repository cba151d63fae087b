"""Module 2: generative adversarial networks (GAN, DCGAN, WGAN, WGAN-GP, Coulomb GAN, pix2pix, CycleGAN).

Public names are re-exported here once their files exist; experiments live in ``experiments*.py``
and are imported by the registry, not by this package.
"""
