"""The platform: experiment registry, configs, ``Run``, training loop, checkpoints,
logging and distributed helpers. It imports no topic package."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import ConfigError, apply_overrides, config_to_dict, param, validate
from .loader import TensorLoader
from .models import count_flops, count_parameters, create_model, list_models, register_model
from .registry import Bound, Experiment, Reference, all_experiments, at_least, at_most, discover, experiment, get, run_experiment
from .run import NonFiniteError, Run
from .training import EMA, Callback, EarlyStopping, Evaluate, FitState, GradClip, GradNormalize, LambdaCallback, fit
from .utils import deterministic, resolve_device, seed_everything

__all__ = [
    "CheckpointError", "load_checkpoint", "save_checkpoint",
    "ConfigError", "apply_overrides", "config_to_dict", "param", "validate",
    "TensorLoader",
    "count_flops", "count_parameters", "create_model", "list_models", "register_model",
    "Bound", "Experiment", "Reference", "all_experiments", "at_least", "at_most", "discover", "experiment", "get",
    "run_experiment",
    "NonFiniteError", "Run",
    "EMA", "Callback", "EarlyStopping", "Evaluate", "FitState", "GradClip", "GradNormalize", "LambdaCallback", "fit",
    "deterministic", "resolve_device", "seed_everything",
]
