"""Weight clustering (weight sharing): each layer's weights become indices into a small codebook.

Han, Mao & Dally (2016), "Deep Compression", sec. 3: the n weights W of a layer are partitioned into
k = 2^b clusters C_1..C_k by one-dimensional k-means, argmin_C sum_i sum_{w in C_i} |w - c_i|^2 (eq. 1),
with the centroids initialised *linearly* between min(W) and max(W) (sec. 3.2: linear initialisation
keeps the few large weights, which matter most, better than density-based initialisation). The layer is
stored as n b-bit indices plus k 32-bit centroids, so the compression rate is
r = n * 32 / (n * b + k * 32) (eq. 2). Fine-tuning the centroids (sec. 3.3) sums the gradients of the
weights of each cluster: :func:`centroid_gradients` and :class:`ClusteredLayers`.

Pruned weights (exact zeros) can be kept out of the clustering (``keep_zeros``): they stay zero and cost
no index in the sparse format; :func:`compressed_bits` here counts dense indices (one per weight).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .pruning import prunable_weights

__all__ = ["kmeans_1d", "Codebook", "cluster_tensor", "cluster_model", "compressed_bits", "dense_bits",
           "centroid_gradients", "ClusteredLayers"]


def kmeans_1d(values: Tensor, k: int, *, iters: int = 30, init: str = "linear", seed: int = 0) -> tuple[Tensor, Tensor]:
    """Lloyd's k-means on a 1-D tensor; returns (centroids (k,), assignment (n,) int64).

    ``init``: "linear" (Han et al. 2016) spaces the centroids evenly over [min, max]; "random" picks k
    distinct values. Empty clusters keep their previous centroid.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int (got {k!r})")
    if init not in ("linear", "random"):
        raise ValueError(f"init must be 'linear' or 'random' (got {init!r})")
    v = values.detach().flatten().float()
    if v.numel() == 0:
        raise ValueError("values must not be empty")
    if init == "linear":
        c = torch.linspace(float(v.min()), float(v.max()), k)
    else:
        g = torch.Generator().manual_seed(seed)
        c = v[torch.randperm(v.numel(), generator=g)[:k]].clone()
        if len(c) < k:
            c = torch.cat([c, c[-1:].expand(k - len(c))])
    for _ in range(iters):
        assign = _nearest(v, c)
        sums = torch.zeros(k).index_add_(0, assign, v)
        counts = torch.zeros(k).index_add_(0, assign, torch.ones_like(v))
        new = torch.where(counts > 0, sums / counts.clamp_min(1), c)
        if torch.allclose(new, c):
            c = new
            break
        c = new
    return c, _nearest(v, c)


def _nearest(v: Tensor, c: Tensor) -> Tensor:
    """Index of the nearest centroid for each value, via the sorted centroids' midpoints: O(n log k)."""
    order = torch.argsort(c)
    cs = c[order]
    mids = (cs[1:] + cs[:-1]) / 2
    return order[torch.bucketize(v, mids)]


@dataclass
class Codebook:
    centroids: Tensor  # (k,) float32
    indices: Tensor  # (n,) int64, one per weight (zeros kept out get index -1)
    shape: tuple[int, ...]

    @property
    def k(self) -> int:
        return len(self.centroids)

    def decode(self) -> Tensor:
        flat = torch.zeros(self.indices.numel())
        live = self.indices >= 0
        flat[live] = self.centroids[self.indices[live]]
        return flat.view(self.shape)


def cluster_tensor(w: Tensor, bits: int, *, keep_zeros: bool = False, iters: int = 30) -> Codebook:
    """Cluster one weight tensor into 2**bits shared values."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an int in [1, 16] (got {bits!r})")
    flat = w.detach().flatten().float()
    idx = torch.full((flat.numel(),), -1, dtype=torch.int64)
    live = flat != 0 if keep_zeros else torch.ones_like(flat, dtype=torch.bool)
    k = min(2 ** bits, max(int(live.sum()), 1))
    if live.any():
        c, a = kmeans_1d(flat[live], k, iters=iters)
        idx[live] = a
    else:
        c = torch.zeros(1)
    return Codebook(c, idx, tuple(w.shape))


def dense_bits(model: nn.Module) -> int:
    """Bits of every parameter at 32 bits each."""
    return 32 * sum(p.numel() for p in model.parameters())


def compressed_bits(model: nn.Module, books: dict[str, Codebook], *, codebook_bits: int = 32) -> int:
    """Han et al. (2016) eq. 2 summed over the model: each clustered tensor costs n * ceil(log2 k) index bits
    plus k * ``codebook_bits``; every other parameter (biases, norms) stays at 32 bits."""
    total = 0
    for name, p in model.named_parameters():
        if name in books:
            b = books[name]
            total += p.numel() * max(1, math.ceil(math.log2(b.k))) + b.k * codebook_bits
        else:
            total += 32 * p.numel()
    return total


@torch.no_grad()
def cluster_model(model: nn.Module, bits: int | dict[str, int], *, keep_zeros: bool = False,
                  iters: int = 30) -> dict[str, Codebook]:
    """Replace every Linear/Conv weight of ``model`` in place by its clustered version (``bits`` per layer or
    one value); returns the codebooks."""
    books = {}
    for name, w in prunable_weights(model).items():
        b = bits[name] if isinstance(bits, dict) else bits
        books[name] = cluster_tensor(w, b, keep_zeros=keep_zeros, iters=iters)
        w.copy_(books[name].decode().to(w.dtype))
    return books


def centroid_gradients(grad: Tensor, book: Codebook) -> Tensor:
    """Gradient of the loss w.r.t. each centroid: the sum of the gradients of the weights that share it
    (Han et al. 2016, sec. 3.3, Figure 3)."""
    live = book.indices >= 0
    return torch.zeros(book.k).index_add_(0, book.indices[live], grad.detach().flatten().float()[live])


class ClusteredLayers:
    """Fine-tune the centroids with plain SGD after clustering: call :meth:`step` after ``loss.backward()``;
    it updates each codebook by ``-lr * centroid_gradient`` and writes the shared values back, so every
    weight keeps its cluster."""

    def __init__(self, model: nn.Module, books: dict[str, Codebook], lr: float = 1e-3):
        if lr <= 0:
            raise ValueError(f"lr must be > 0 (got {lr})")
        self.model, self.books, self.lr = model, books, lr
        self.params = dict(model.named_parameters())

    @torch.no_grad()
    def step(self) -> None:
        for name, book in self.books.items():
            p = self.params[name]
            if p.grad is None:
                continue
            book.centroids -= self.lr * centroid_gradients(p.grad, book)
            p.copy_(book.decode().to(p.dtype))
