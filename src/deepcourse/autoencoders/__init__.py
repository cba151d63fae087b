"""Module 3: autoencoders and the latent tools around them.

* ``networks``: dense and convolutional encoders/decoders of any depth.
* ``models``: plain, sparse (L1 on the code), contractive (||dz/dx||_F^2) and denoising autoencoders,
  the linear autoencoder that spans the PCA subspace.
* ``corruption``: Gaussian, salt-and-pepper and masking noise (also for +-1 images, for the Hopfield net).
* ``stacked``: the stacked denoising autoencoder with greedy layer-wise pretraining (used by DEC).
* ``vae``: the VAE (Bernoulli/Gaussian decoders, beta, closed-form ELBO, importance-weighted NLL).
* ``wae``: Wasserstein autoencoders, WAE-MMD and WAE-GAN.
* ``latent``: latent scatter, the N(0,1)-quantile decoder grid, interpolation, snapshots over training.

The experiments (``deepcourse.autoencoders.experiments``) are imported by the registry, not here.
"""

from . import corruption, latent, models, networks, stacked, vae, wae
from .corruption import *  # noqa: F401,F403
from .latent import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .networks import *  # noqa: F401,F403
from .stacked import *  # noqa: F401,F403
from .vae import *  # noqa: F401,F403
from .wae import *  # noqa: F401,F403

__all__ = [*corruption.__all__, *latent.__all__, *models.__all__, *networks.__all__, *stacked.__all__,
           *vae.__all__, *wae.__all__]
