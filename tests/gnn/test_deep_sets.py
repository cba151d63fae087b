"""Deep Sets: invariance under random permutations of each set, padded and flat inputs agree, padding is
ignored, and shape errors."""

from __future__ import annotations

import pytest
import torch

from deepcourse.gnn import DeepSets


@pytest.mark.parametrize("pool", ["sum", "mean", "max"])
def test_invariant_under_random_permutations(pool):
    torch.manual_seed(0)
    model = DeepSets(5, 16, 3, pool=pool).double()
    x = torch.randn(4, 9, 5, dtype=torch.float64)
    out = model(x)
    for k in range(10):
        perm = torch.randperm(9, generator=torch.Generator().manual_seed(k))
        torch.testing.assert_close(model(x[:, perm]), out)
    assert not torch.allclose(model(x[:, :8]), out)  # but it does see the elements


def test_padded_flat_and_masked_inputs_agree():
    torch.manual_seed(0)
    model = DeepSets(3, 8, 2).double()
    sets = [torch.randn(k, 3, dtype=torch.float64) for k in (2, 5, 1)]
    padded = torch.zeros(3, 5, 3, dtype=torch.float64)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    for i, s in enumerate(sets):
        padded[i, : len(s)] = s
        mask[i, : len(s)] = True
    padded[~mask] = 1e3  # garbage in the padding must not matter
    flat = torch.cat(sets)
    batch = torch.tensor([0, 0, 1, 1, 1, 1, 1, 2])
    torch.testing.assert_close(model(padded, mask), model(flat, batch))
    torch.testing.assert_close(model(padded, mask)[1], model(sets[1].unsqueeze(0))[0])


def test_errors():
    model = DeepSets(3, 8, 2)
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        model(torch.randn(2, 4, 5))
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 4\)"):
        model(torch.randn(2, 4, 3), torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="pool"):
        DeepSets(3, 8, 2, pool="median")
