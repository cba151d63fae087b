"""Registers the GAN experiments (imported by ``deepcourse.core.registry.discover``)."""

from . import experiments_2d, experiments_images, experiments_translation  # noqa: F401
