"""Module 9: the model-optimisation toolbox: distillation, mean teacher, OHEM, mixup, SWA/SGDR and SVD
compression (part A); quantisation, pruning, weight clustering, the lottery ticket and hyper-parameter
optimisation (part B; the HPO library is the platform's :mod:`deepcourse.core.hpo`). The experiments live in
:mod:`deepcourse.optimization.experiments`."""

# part A: distillation, mean teacher, mixup, SWA/SGDR, truncated SVD (and the networks their experiments train)
from .distillation import (DistillationObjective, distillation_loss, function_matching_loss, hint_loss, kd_loss,
                           mutual_learning_losses, train_student)
from .mean_teacher import ConsistencyTrainer, consistency_loss, ema_update, semi_supervised_split, train_semi_supervised
from .mixup import MixupObjective, erm_vs_mixup, mixup_batch, mixup_cross_entropy
from .networks import build_classifier
from .svd import compress_linears, rank_sweep, svd_linear, truncated_svd
from .swa import SWACallback, compare_schedules, sgdr_lr, swa_cyclic_lr
from deepcourse.data import load_uci  # re-exported: the tables moved to deepcourse.data.uci

# part B: quantisation, pruning, weight clustering, the lottery ticket, OHEM (HPO is deepcourse.core.hpo)
from .clustering import ClusteredLayers, cluster_model, compressed_bits, kmeans_1d
from .lottery import iterative_magnitude_pruning, layer_rates, random_reinit, train_masked
from .ohem import OHEMObjective, ohem_loss, ohem_step, select_hard
from .pruning import (GradualPruning, MaskCallback, channel_prune, magnitude_prune, shrink_sequential, sparsity,
                      to_sparse)
from .quantization import (cast_model, convert_qat, measure_latency, model_size_bytes, prepare_qat, quantize_dynamic,
                           quantize_static)

__all__ = [
    "DistillationObjective", "distillation_loss", "function_matching_loss", "hint_loss", "kd_loss",
    "mutual_learning_losses", "train_student",
    "ConsistencyTrainer", "consistency_loss", "ema_update", "semi_supervised_split", "train_semi_supervised",
    "MixupObjective", "erm_vs_mixup", "mixup_batch", "mixup_cross_entropy",
    "build_classifier",
    "compress_linears", "rank_sweep", "svd_linear", "truncated_svd",
    "SWACallback", "compare_schedules", "sgdr_lr", "swa_cyclic_lr",
    "load_uci",
    "ClusteredLayers", "cluster_model", "compressed_bits", "kmeans_1d",
    "iterative_magnitude_pruning", "layer_rates", "random_reinit", "train_masked",
    "OHEMObjective", "ohem_loss", "ohem_step", "select_hard",
    "GradualPruning", "MaskCallback", "channel_prune", "magnitude_prune", "shrink_sequential", "sparsity", "to_sparse",
    "cast_model", "convert_qat", "measure_latency", "model_size_bytes", "prepare_qat", "quantize_dynamic",
    "quantize_static",
]

