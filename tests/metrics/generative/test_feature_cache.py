"""The feature-network cache: files, fingerprints, and a damaged cache raising instead of retraining."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from deepcourse.metrics.generative import feature_cache as C
from deepcourse.metrics.generative import get_recipe


@pytest.fixture(scope="module")
def net():
    return C.domain_features("digits")


@pytest.fixture
def private_cache(net, tmp_path, monkeypatch):
    """A copy of the digits cache in a private $DEEPCOURSE_CACHE, and a trainer that records its calls."""
    rec = get_recipe("digits")
    weights, meta = C.cache_paths(rec)
    monkeypatch.setenv("DEEPCOURSE_CACHE", str(tmp_path))
    w2, m2 = C.cache_paths(rec)
    shutil.copy(weights, w2)
    shutil.copy(meta, m2)
    calls = []

    def fake_train(recipe, root=None, device=None, verbose=False):
        calls.append(recipe.domain)
        torch.manual_seed(5)
        return C.FeatureNet(recipe).eval(), {"test_acc": 0.0, "train_seconds": 0.0}

    monkeypatch.setattr(C, "train_feature_net", fake_train)
    monkeypatch.setattr(C, "_MEMO", {})
    return w2, m2, calls


def test_cache_files_and_fingerprint(net):
    rec = get_recipe("digits")
    weights, meta = C.cache_paths(rec)
    assert weights.parent.name == "features" and weights.is_file() and meta.is_file()
    assert weights.name.startswith("digits-full-")
    info = json.loads(meta.read_text())
    assert info["fingerprint"] == net.fingerprint and info["recipe"]["domain"] == "digits"
    state = torch.load(weights, weights_only=True)
    assert C.fingerprint(rec, C.weights_sha(state)) == net.fingerprint


def test_a_good_copy_loads_without_training(net, private_cache, tmp_path):
    w2, _, calls = private_cache
    assert w2.parent == tmp_path / "features"
    assert C.domain_features("digits").fingerprint == net.fingerprint and calls == []


def test_damaged_cache_raises_and_retrain_rewrites(net, private_cache, monkeypatch):
    w2, m2, calls = private_cache
    w2.write_bytes(w2.read_bytes()[:100])  # truncated weights
    with pytest.raises(C.FeatureCacheError, match="unreadable"):
        C.domain_features("digits")
    assert calls == []  # no silent retrain
    again = C.domain_features("digits", retrain=True)
    assert calls == ["digits"] and again.fingerprint != net.fingerprint
    monkeypatch.setattr(C, "_MEMO", {})
    assert C.domain_features("digits").fingerprint == again.fingerprint and calls == ["digits"]  # rewritten


def test_weights_changed_behind_the_metadata_raise(private_cache):
    w2, _, calls = private_cache
    st = torch.load(w2, weights_only=True)
    st["net.0.weight"] += 1
    torch.save(st, w2)
    with pytest.raises(C.FeatureCacheError, match="does not match"):
        C.domain_features("digits")
    assert calls == []


def test_missing_metadata_raises(private_cache):
    _, m2, _ = private_cache
    m2.unlink()
    with pytest.raises(C.FeatureCacheError):
        C.domain_features("digits")


def test_an_absent_cache_trains_once(private_cache):
    w2, m2, calls = private_cache
    w2.unlink()
    m2.unlink()
    net = C.domain_features("digits")
    assert calls == ["digits"] and w2.is_file() and m2.is_file()
    assert json.loads(m2.read_text())["fingerprint"] == net.fingerprint
