"""The platform: experiment registry, configs, ``Run``, training loop, checkpoints,
logging and distributed helpers. It imports no topic package."""

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .classifier import evaluate_classifier, train_classifier
from .inference import eval_mode, predict
from .tables import markdown_table
from .config import ConfigError, apply_overrides, config_to_dict, param, validate
from .loader import TensorLoader
from .models import count_flops, count_parameters, create_model, list_models, register_model
from .registry import Bound, Experiment, Reference, all_experiments, at_least, at_most, discover, experiment, get, run_experiment
from .run import NonFiniteError, Run
from .training import EMA, Callback, EarlyStopping, Evaluate, FitState, GradClip, GradClipValue, GradNormalize, LambdaCallback, fit
from .utils import deterministic, resolve_device, seed_everything

__all__ = [
    "CheckpointError", "load_checkpoint", "save_checkpoint",
    "evaluate_classifier", "train_classifier", "eval_mode", "predict", "markdown_table",
    "ConfigError", "apply_overrides", "config_to_dict", "param", "validate",
    "TensorLoader",
    "count_flops", "count_parameters", "create_model", "list_models", "register_model",
    "Bound", "Experiment", "Reference", "all_experiments", "at_least", "at_most", "discover", "experiment", "get",
    "run_experiment",
    "NonFiniteError", "Run",
    "EMA", "Callback", "EarlyStopping", "Evaluate", "FitState", "GradClip", "GradClipValue", "GradNormalize", "LambdaCallback", "fit",
    "deterministic", "resolve_device", "seed_everything",
]
