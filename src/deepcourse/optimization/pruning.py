"""Magnitude pruning: masks, unstructured (layer-wise and global) and structured (channels), gradual
schedules, and a measured answer to "is the sparse model faster?".

* Unstructured magnitude pruning (Han et al. 2015, "Learning both Weights and Connections for Efficient
  Neural Networks"): a weight w survives when |w| is above a threshold. *Layer-wise* scope picks the
  threshold per layer so each layer loses the same fraction; *global* scope uses one threshold over all
  layers, so layers with many small weights (the big first layer of an MLP) lose more.
* Structured pruning (Li et al. 2017, "Pruning Filters for Efficient ConvNets", sec. 3.1): a whole
  output channel (conv filter, or row of a Linear) goes when its L1 norm sum_j |W_ij| is among the
  smallest. Because whole channels disappear, :func:`shrink_sequential` can rebuild a smaller dense
  network, which is what makes pruning faster on ordinary hardware.
* Gradual pruning (Zhu & Gupta 2017, "To prune, or not to prune", eq. 1): the target sparsity grows as
  s_t = s_f + (s_i - s_f) (1 - (t - t_0) / (n dt))^3, pruning fast at first and slowly at the end.

A mask is a 0/1 tensor per weight, kept outside the module (``{param_name: mask}``); the pruned weights
are set to zero and :class:`MaskCallback` keeps them at zero through training: it zeroes their
gradients after backward and multiplies the weights by the mask after every optimiser step (weight
decay or Adam's momentum would otherwise bring them back).
"""

from __future__ import annotations

import copy
import warnings
from typing import Iterable, Mapping

import torch
from torch import Tensor, nn

from deepcourse.core import Callback

__all__ = [
    "Masks", "prunable_weights", "ones_masks", "magnitude_prune", "channel_prune", "apply_masks", "sparsity",
    "layer_sparsity", "MaskCallback", "polynomial_sparsity", "GradualPruning", "shrink_sequential",
    "SparseLinear", "to_sparse", "pruned_channels",
]

Masks = dict[str, Tensor]  # parameter name -> 0/1 mask of the same shape (float)

_PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def prunable_weights(model: nn.Module, kinds: tuple[type, ...] = _PRUNABLE) -> dict[str, Tensor]:
    """``{"layer.weight": parameter}`` for every Linear/Conv weight (biases and norms are not pruned,
    as in Han et al. 2015 and Frankle & Carbin 2019)."""
    out = {}
    for name, mod in model.named_modules():
        if isinstance(mod, kinds) and getattr(mod, "weight", None) is not None:
            out[f"{name}.weight" if name else "weight"] = mod.weight
    if not out:
        raise ValueError(f"model {type(model).__name__} has no prunable layer ({', '.join(k.__name__ for k in kinds)})")
    return out


def ones_masks(model: nn.Module, names: Iterable[str] | None = None) -> Masks:
    """All-ones masks (nothing pruned yet) for the prunable weights, or for ``names``."""
    weights = prunable_weights(model)
    names = list(weights) if names is None else list(names)
    unknown = [n for n in names if n not in weights]
    if unknown:
        raise ValueError(f"names {unknown} are not prunable weights; allowed: {sorted(weights)}")
    return {n: torch.ones_like(weights[n], dtype=torch.float32) for n in names}


def _check_amount(amount: float, name: str = "amount") -> None:
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0.0 <= amount < 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1) (got {amount!r})")


def _kth_smallest_cut(scores: Tensor, alive: Tensor, n_prune: int) -> Tensor:
    """Mask keeping the alive entries except the ``n_prune`` alive ones with the smallest score."""
    mask = alive.clone()
    if n_prune <= 0:
        return mask
    s = scores.masked_fill(alive == 0, float("inf")).flatten()
    idx = torch.topk(s, n_prune, largest=False).indices  # ties broken by index: exactly n_prune go
    mask.view(-1)[idx] = 0.0
    return mask


@torch.no_grad()
def magnitude_prune(model: nn.Module, amount: float | Mapping[str, float], *, scope: str = "layer",
                    masks: Masks | None = None, names: Iterable[str] | None = None, apply: bool = True) -> Masks:
    """Remove the fraction ``amount`` of the still-surviving weights with the smallest |w|.

    ``scope="layer"``: each layer loses ``amount`` of its survivors (``amount`` may be a dict per layer,
    e.g. Frankle & Carbin prune the output layer at half the rate). ``scope="global"``: one threshold
    over all layers; ``amount`` of all survivors go. Previously pruned weights stay pruned, so calling
    this repeatedly is iterative pruning. Returns the new masks (and zeroes the weights when ``apply``).
    """
    if scope not in ("layer", "global"):
        raise ValueError(f"scope must be 'layer' or 'global' (got {scope!r})")
    weights = prunable_weights(model)
    masks = {k: v.clone() for k, v in (masks or ones_masks(model, names)).items()}
    if names is not None:
        masks = {k: v for k, v in masks.items() if k in set(names)}
    for k in masks:
        if k not in weights:
            raise ValueError(f"mask {k!r} names no prunable weight; allowed: {sorted(weights)}")
    if isinstance(amount, Mapping):
        if scope == "global":
            raise ValueError("amount must be one number with scope='global' (got a dict)")
        for k, a in amount.items():
            if k not in masks:
                raise ValueError(f"amount names {k!r}, which is not pruned; allowed: {sorted(masks)}")
            _check_amount(a, f"amount[{k!r}]")
    else:
        _check_amount(amount)
    if scope == "layer":
        for k, m in masks.items():
            a = amount.get(k, 0.0) if isinstance(amount, Mapping) else amount
            alive = int(m.sum())
            masks[k] = _kth_smallest_cut(weights[k].detach().abs().float(), m, int(round(a * alive)))
    else:
        scores = torch.cat([weights[k].detach().abs().float().flatten() for k in masks])
        alive = torch.cat([m.flatten() for m in masks.values()])
        flat = _kth_smallest_cut(scores, alive, int(round(amount * int(alive.sum()))))
        start = 0
        for k, m in masks.items():
            masks[k] = flat[start:start + m.numel()].view_as(m).clone()
            start += m.numel()
    if apply:
        apply_masks(model, masks)
    return masks


@torch.no_grad()
def channel_prune(model: nn.Module, amount: float | Mapping[str, float], *, names: Iterable[str] | None = None,
                  masks: Masks | None = None, p: int = 1, apply: bool = True) -> Masks:
    """Structured pruning (Li et al. 2017): in each named layer, zero the ``amount`` fraction of output
    channels (conv filters / Linear rows) with the smallest L``p`` norm, and their biases.

    The returned masks cover whole channels: ``mask[c]`` is all zeros or all ones. The default layers are
    every prunable layer except the last one (the classifier's outputs cannot go)."""
    weights = prunable_weights(model)
    if names is None:
        names = list(weights)[:-1]
    names = list(names)
    unknown = [n for n in names if n not in weights]
    if unknown:
        raise ValueError(f"names {unknown} are not prunable weights; allowed: {sorted(weights)}")
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2 (got {p!r})")
    masks = {k: v.clone() for k, v in (masks or ones_masks(model, names)).items()}
    params = dict(model.named_parameters())
    following = _following_norms(model)
    for k in names:
        a = amount.get(k, 0.0) if isinstance(amount, Mapping) else amount
        _check_amount(a, f"amount[{k!r}]" if isinstance(amount, Mapping) else "amount")
        w = weights[k].detach().float()
        m = masks.setdefault(k, torch.ones_like(w))
        norms = (w * m).flatten(1).norm(p=p, dim=1)  # (out_channels,)
        alive = (m.flatten(1).sum(1) > 0).float()
        keep = _kth_smallest_cut(norms, alive, int(round(a * int(alive.sum()))))
        masks[k] = m * keep.view(-1, *([1] * (w.dim() - 1)))
        prefix = k[: -len("weight")]
        if params.get(prefix + "bias") is not None:
            masks[prefix + "bias"] = keep.clone()
        bn = following.get(k)
        if bn is not None:  # BN(0) = beta - gamma mu / sigma is not 0: the channel must go there too
            masks[bn + ".weight"], masks[bn + ".bias"] = keep.clone(), keep.clone()
    if apply:
        apply_masks(model, masks)
    return masks


def _following_norms(model: nn.Module) -> dict[str, str]:
    """``{"conv.weight": "bn"}`` when a BatchNorm over the same channels comes right after a layer in
    module order (the Conv-BN-ReLU pattern)."""
    mods = [(n, m) for n, m in model.named_modules() if n]
    out = {}
    for (n, m), (n2, m2) in zip(mods, mods[1:]):
        if isinstance(m, _PRUNABLE) and isinstance(m2, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) \
                and m2.affine and m2.num_features == m.weight.shape[0]:
            out[f"{n}.weight"] = n2
    return out


def pruned_channels(masks: Masks) -> dict[str, list[int]]:
    """Output channels whose mask is entirely zero, per weight."""
    return {k: torch.nonzero(m.flatten(1).sum(1) == 0).flatten().tolist() for k, m in _weight_masks(masks).items()}


def _weight_masks(masks: Masks) -> Masks:
    """The masks of Linear/Conv weights only (structured pruning also masks biases and the following
    BatchNorm's scale and shift, all 1-D; sparsity counts the weight matrices and filters)."""
    return {k: m for k, m in masks.items() if m.dim() >= 2}


@torch.no_grad()
def apply_masks(model: nn.Module, masks: Masks) -> None:
    """Multiply each masked parameter by its mask in place (structured masks also cover the biases of
    the removed channels, so a removed channel outputs exactly zero)."""
    params = dict(model.named_parameters())
    for k, m in masks.items():
        if k not in params:
            raise ValueError(f"mask {k!r} names no parameter of {type(model).__name__}")
        params[k].mul_(m.to(params[k].device, params[k].dtype))


def layer_sparsity(model: nn.Module, masks: Masks | None = None) -> dict[str, float]:
    """Fraction of zeros per prunable weight (from the masks if given, else from the weights)."""
    if masks is not None:
        return {k: 1.0 - float(m.sum()) / m.numel() for k, m in _weight_masks(masks).items()}
    return {k: float((w == 0).sum()) / w.numel() for k, w in prunable_weights(model).items()}


def sparsity(model: nn.Module, masks: Masks | None = None) -> float:
    """Fraction of zeros over all prunable weights together."""
    if masks is not None:
        masks = _weight_masks(masks)
        total = sum(m.numel() for m in masks.values())
        return 1.0 - sum(float(m.sum()) for m in masks.values()) / total
    weights = prunable_weights(model).values()
    return sum(float((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)


class MaskCallback(Callback):
    """Keep pruned weights at zero during ``fit``: gradients of pruned entries are zeroed after backward
    (so momentum buffers stay zero) and the weights are re-masked after every step (weight decay and
    Adam's bias-corrected update can move a weight with zero gradient)."""

    def __init__(self, model: nn.Module, masks: Masks):
        self.model, self.masks = model, masks
        params = dict(model.named_parameters())
        missing = [k for k in masks if k not in params]
        if missing:
            raise ValueError(f"masks {missing} name no parameter of {type(model).__name__}")
        self._params = params

    @torch.no_grad()
    def on_after_backward(self, state) -> None:
        for k, m in self.masks.items():
            g = self._params[k].grad
            if g is not None:
                g.mul_(m.to(g.device, g.dtype))

    def on_step_end(self, state, metrics) -> None:
        apply_masks(self.model, self.masks)

    def state_dict(self) -> dict:
        return {"masks": {k: m.clone() for k, m in self.masks.items()}}

    def load_state_dict(self, state: dict) -> None:
        for k, m in state["masks"].items():
            self.masks[k] = m


def polynomial_sparsity(step: int, final: float, *, initial: float = 0.0, begin: int = 0, end: int,
                        power: float = 3.0) -> float:
    """Zhu & Gupta (2017) eq. 1: s_t = s_f + (s_i - s_f)(1 - (t - t0)/(t_end - t0))^3, clamped to [t0, t_end]."""
    _check_amount(final, "final")
    _check_amount(initial, "initial")
    if end <= begin:
        raise ValueError(f"end must be > begin (got begin={begin}, end={end})")
    frac = min(max((step - begin) / (end - begin), 0.0), 1.0)
    return final + (initial - final) * (1.0 - frac) ** power


class GradualPruning(MaskCallback):
    """Prune during training (Zhu & Gupta 2017): every ``every`` steps between ``begin`` and ``end`` the
    masks are recomputed so that the sparsity follows :func:`polynomial_sparsity`; in between, pruned
    weights are held at zero. ``scope`` is "layer", "global" or "channel" (structured, Li et al. 2017)."""

    def __init__(self, model: nn.Module, final: float, *, begin: int, end: int, every: int = 10,
                 scope: str = "layer", initial: float = 0.0, names: Iterable[str] | None = None):
        if scope not in ("layer", "global", "channel"):
            raise ValueError(f"scope must be 'layer', 'global' or 'channel' (got {scope!r})")
        if every < 1:
            raise ValueError(f"every must be >= 1 (got {every})")
        names = list(names) if names is not None else (list(prunable_weights(model))[:-1] if scope == "channel" else None)
        super().__init__(model, ones_masks(model, names))
        polynomial_sparsity(begin, final, initial=initial, begin=begin, end=end)  # validates
        self.final, self.initial, self.begin, self.end, self.every, self.scope = final, initial, begin, end, every, scope
        self.history: list[tuple[int, float]] = []

    def target(self, step: int) -> float:
        return polynomial_sparsity(step, self.final, initial=self.initial, begin=self.begin, end=self.end)

    def on_step_end(self, state, metrics) -> None:
        t = state.step
        if self.begin <= t <= self.end and ((t - self.begin) % self.every == 0 or t == self.end):
            self.prune_to(self.target(t))
            self.history.append((t, sparsity(self.model, self.masks)))
        apply_masks(self.model, self.masks)
        metrics["sparsity"] = sparsity(self.model, self.masks)

    def prune_to(self, target: float) -> None:
        """Prune more (never regrow) until the masked fraction reaches ``target``."""
        current = sparsity(self.model, self.masks)
        if target <= current:
            return
        # fraction of the survivors to remove so that the total reaches target
        extra = (target - current) / (1.0 - current)
        if self.scope == "channel":
            new = channel_prune(self.model, extra, names=list(self.masks), masks=self.masks)
        else:
            new = magnitude_prune(self.model, extra, scope=self.scope, masks=self.masks)
        self.masks.clear()
        self.masks.update(new)


# ------------------------------------------------------------------------------------------- speed
@torch.no_grad()
def shrink_sequential(model: nn.Module, masks: Masks) -> nn.Module:
    """Rebuild a ``nn.Sequential`` of Linear/Conv2d/BatchNorm/activation/pooling/Flatten layers without the
    output channels that structured pruning removed: the pruned rows (filters) disappear from their layer,
    and the matching input columns from the next weight layer (after a Flatten, each channel owns
    ``H * W`` consecutive inputs). The result computes the same function as the masked model.

    A model that keeps all its weight layers in one ``nn.Sequential`` child (``foundations.MLP.net``) is
    copied with that child shrunk."""
    if not isinstance(model, nn.Sequential):
        return _shrink_wrapped(model, masks)
    new = copy.deepcopy(model)
    keep_in: Tensor | None = None  # surviving output channels of the previous weight layer
    prev_channels = 0  # that layer's original number of output channels
    flattened = False  # a Flatten since that layer: each channel owns H*W consecutive inputs
    last = max(i for i, l in enumerate(new) if isinstance(l, (nn.Linear, nn.Conv2d)))
    for i, layer in enumerate(new):
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            w = layer.weight.data
            b = layer.bias.data if layer.bias is not None else None
            if keep_in is not None:
                if flattened:
                    spatial = w.shape[1] // prev_channels
                    cols = (keep_in.view(-1, 1) * spatial + torch.arange(spatial).view(1, -1)).flatten()
                    w = w[:, cols]  # (out, kept_channels * H * W)
                else:
                    w = w[:, keep_in]
            keep_out = torch.arange(w.shape[0])
            name = f"{i}.weight"
            if name in masks and i < last:
                keep_out = torch.nonzero(masks[name].flatten(1).sum(1) > 0).flatten()
                if len(keep_out) == 0:
                    raise ValueError(f"layer {i} has every channel pruned; nothing would pass through")
            prev_channels = w.shape[0]
            w = w[keep_out]
            b = b[keep_out] if b is not None else None
            if isinstance(layer, nn.Linear):
                rep = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
            else:
                rep = nn.Conv2d(w.shape[1], w.shape[0], layer.kernel_size, layer.stride, layer.padding,
                                layer.dilation, bias=b is not None)
            rep.weight.data.copy_(w)
            if b is not None:
                rep.bias.data.copy_(b)
            new[i] = rep
            keep_in, flattened = keep_out, False
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)) and keep_in is not None:
            bn = type(layer)(len(keep_in), eps=layer.eps, momentum=layer.momentum, affine=layer.affine)
            for attr in ("weight", "bias", "running_mean", "running_var"):
                src = getattr(layer, attr)
                if src is not None:
                    getattr(bn, attr).data.copy_(src.data[keep_in])
            new[i] = bn
        elif isinstance(layer, nn.Flatten):
            flattened = True
        elif isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv3d, nn.ConvTranspose2d)):
            raise TypeError(f"shrink_sequential does not handle {type(layer).__name__} (layer {i})")
    return new


def _shrink_wrapped(model: nn.Module, masks: Masks) -> nn.Module:
    inner = [(n, c) for n, c in model.named_children() if isinstance(c, nn.Sequential)]
    if len(inner) != 1 or not all(k.startswith(inner[0][0] + ".") for k in prunable_weights(model)):
        raise TypeError(f"model must be nn.Sequential or keep its weight layers in one nn.Sequential child "
                        f"(got {type(model).__name__})")
    name, seq = inner[0]
    new = copy.deepcopy(model)
    setattr(new, name, shrink_sequential(seq, {k[len(name) + 1:]: m for k, m in masks.items()
                                               if k.startswith(name + ".")}))
    return new


class SparseLinear(nn.Module):
    """A Linear layer whose weight is stored in compressed sparse row (CSR) form: only the surviving
    weights and their column indices. ``y = W x + b`` via ``torch.sparse.mm``. Whether this is faster
    than the dense matmul depends on the sparsity and the hardware; the pruning experiment measures it."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter("ignore", UserWarning)
            self.weight = linear.weight.detach().to_sparse_csr()
        self.bias = linear.bias.detach().clone() if linear.bias is not None else None

    def forward(self, x: Tensor) -> Tensor:
        y = torch.sparse.mm(self.weight, x.reshape(-1, self.in_features).t()).t()  # (B, out)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features)


def to_sparse(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every ``nn.Linear`` replaced by :class:`SparseLinear` (inference only)."""
    new = copy.deepcopy(model).eval()
    for name, mod in list(new.named_modules()):
        for child_name, child in list(mod.named_children()):
            if isinstance(child, nn.Linear):
                setattr(mod, child_name, SparseLinear(child))
    return new
