"""Sample-quality metrics for generative models: Fréchet and kernel distances and a classifier
score on a domain classifier's features (``fid``), and mode coverage on synthetic mixtures
(``coverage``). Importing this package does not train anything: feature networks are trained
(once, then cached) on the first call of ``domain_features``."""

from .coverage import *  # noqa: F401,F403
from .fid import classifier_score, domain_features, frechet_distance, kid  # noqa: F401  (fid(): import it from .fid)
