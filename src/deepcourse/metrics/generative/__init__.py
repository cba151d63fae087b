"""Sample-quality metrics for generative models.

* :mod:`.fid`: the formulas, Fréchet distance (FID), KID and the classifier score, on a feature network;
* :mod:`.features`: the feature networks (a small CNN classifier per image domain, its recipes and its
  training) and the domain data in the metrics' [-1, 1] convention;
* :mod:`.feature_cache`: :func:`domain_features`, which trains a feature network once and caches it;
* :mod:`.coverage`: mode coverage on synthetic mixtures.

Importing this package trains nothing: a feature network is trained (once, then cached) on the first
call of :func:`domain_features`.
"""

from .coverage import mode_coverage
from .feature_cache import FeatureCacheError, domain_features, feature_cache_dir
from .features import (DOMAINS, KINDS, DomainRecipe, FeatureNet, domain_splits, get_recipe, load_domain_data,
                       signed_images)
# the function fid() is not re-exported: it would shadow the submodule .fid (import it from there)
from .fid import (classifier_score, extract_features, feature_stats, fid_from_features, frechet_distance, kid,
                  mmd2_unbiased, polynomial_kernel)

__all__ = [
    "mode_coverage",
    "FeatureCacheError", "domain_features", "feature_cache_dir",
    "DOMAINS", "KINDS", "DomainRecipe", "FeatureNet", "domain_splits", "get_recipe", "load_domain_data",
    "signed_images",
    "classifier_score", "extract_features", "feature_stats", "fid_from_features", "frechet_distance", "kid",
    "mmd2_unbiased", "polynomial_kernel",
]
