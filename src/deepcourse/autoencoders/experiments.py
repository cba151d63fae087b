"""Module 3 experiments; the registry imports this module (``core.registry.discover``)."""

from . import experiments_ae, experiments_vae  # noqa: F401  (registration by import)
