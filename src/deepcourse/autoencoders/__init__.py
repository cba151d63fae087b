"""Module 3: autoencoders and the latent tools around them.

* ``networks``: dense and convolutional encoders/decoders of any depth.
* ``models``: plain, sparse (L1 on the code), contractive (||dz/dx||_F^2) and denoising autoencoders,
  the linear autoencoder that spans the PCA subspace.
* ``corruption``: Gaussian, salt-and-pepper and masking noise (also for +-1 images, for the Hopfield net).
* ``binary_patterns``: +-1 images for the Hopfield network (weakly correlated glyphs, digit bitmaps).
* ``stacked``: the stacked denoising autoencoder with greedy layer-wise pretraining (used by DEC).
* ``vae``: the VAE (Bernoulli/Gaussian decoders, beta, closed-form ELBO, importance-weighted NLL).
* ``wae``: Wasserstein autoencoders, WAE-MMD and WAE-GAN.
* ``latent``: latent scatter, the N(0,1)-quantile decoder grid, interpolation, snapshots over training.
* ``probes``: the linear probe, logistic regression on codes, the usual probe of a representation.
* ``sample_fid``: samples of a decoder and their domain FID.
* ``vae_benchmark``: the VAE density benchmark (test ELBO, IWAE NLL, active units, FID) run by
  ``vae-mnist`` and ``vae-fashion``.
* ``comparison_figure``: one bar panel per metric, one bar per model.

The experiments (the package ``deepcourse.autoencoders.experiments``, one file per paper or claim) are
imported by the registry, not here.
"""

from . import (binary_patterns, comparison_figure, corruption, latent, models, networks, probes, sample_fid,
               stacked, vae, vae_benchmark, wae)
from .binary_patterns import *  # noqa: F401,F403
from .comparison_figure import *  # noqa: F401,F403
from .corruption import *  # noqa: F401,F403
from .latent import *  # noqa: F401,F403
from .probes import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .networks import *  # noqa: F401,F403
from .sample_fid import *  # noqa: F401,F403
from .stacked import *  # noqa: F401,F403
from .vae import *  # noqa: F401,F403
from .vae_benchmark import *  # noqa: F401,F403
from .wae import *  # noqa: F401,F403

__all__ = [*binary_patterns.__all__, *comparison_figure.__all__, *corruption.__all__, *latent.__all__,
           *models.__all__, *networks.__all__, *probes.__all__, *sample_fid.__all__, *stacked.__all__,
           *vae.__all__, *vae_benchmark.__all__, *wae.__all__]
