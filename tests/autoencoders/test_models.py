from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deepcourse.autoencoders.models import (
    Autoencoder,
    LinearAutoencoder,
    SigmoidEncoder,
    autoencoder_loss,
    code_sparsity,
    contractive_penalty,
    dense_autoencoder,
    jacobian_frobenius,
    linear_ae_pca,
    pca_basis,
    principal_angles,
    reconstruction_loss,
    sparse_penalty,
    train_autoencoder,
)
from deepcourse.autoencoders.networks import ConvDecoder, ConvEncoder, DenseEncoder


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny models: one thread avoids the synchronisation cost that dominates on a busy 2-core machine
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_autoencoder_forward_reshapes_to_input():
    ae = Autoencoder(ConvEncoder(1, 8, (4, 8), 3), ConvDecoder(3, 1, 8, (8, 4)))
    x = torch.rand(5, 64)
    x_hat, z = ae(x)
    assert x_hat.shape == x.shape and z.shape == (5, 3)
    assert torch.equal(ae.encode(x), z)
    with pytest.raises(TypeError, match="nn.Modules"):
        Autoencoder(lambda x: x, nn.Identity())


def test_reconstruction_losses_match_torch():
    x = torch.rand(4, 10)
    logits = torch.randn(4, 10)
    assert torch.allclose(reconstruction_loss(logits, x, "mse"), ((logits - x) ** 2).mean())
    p = logits.sigmoid()
    ref = -(x * p.log() + (1 - x) * (1 - p).log()).mean()
    assert torch.allclose(reconstruction_loss(logits, x, "bce"), ref, atol=1e-6)
    with pytest.raises(ValueError, match="kind"):
        reconstruction_loss(logits, x, "l1")


def test_sparse_penalty_is_on_the_code_not_the_weights():
    z = torch.tensor([[1.0, -2.0, 0.0], [0.0, 0.0, 3.0]], requires_grad=True)
    pen = sparse_penalty(z, 0.5)
    assert torch.isclose(pen, torch.tensor(0.5 * (3 + 3) / 2))
    pen.backward()
    assert torch.allclose(z.grad, 0.5 * torch.sign(z.detach()) / 2)
    # a model's weights influence the penalty only through z: scaling the decoder changes nothing
    ae = dense_autoencoder(8, (4,), 3)
    x = torch.rand(6, 8)
    out = autoencoder_loss(ae, x, "sparse", lam=0.1)
    with torch.no_grad():
        for p in ae.decoder.parameters():
            p.mul_(10)
    assert torch.isclose(autoencoder_loss(ae, x, "sparse", lam=0.1)["penalty"], out["penalty"])


def test_contractive_closed_form_equals_autograd_and_explicit_jacobian():
    torch.manual_seed(0)
    enc = SigmoidEncoder(7, 4).double()
    x = torch.randn(5, 7, dtype=torch.float64)
    cf = jacobian_frobenius(enc, x, method="closed_form")
    ag = jacobian_frobenius(enc, x, method="autograd")
    ref = torch.stack([torch.autograd.functional.jacobian(lambda v: enc(v[None])[0], xi).pow(2).sum() for xi in x])
    assert torch.allclose(cf, ag, atol=1e-12)
    assert torch.allclose(cf, ref, atol=1e-12)
    # the nn.Sequential(Linear, Sigmoid) form is accepted too
    seq = nn.Sequential(enc.linear, nn.Sigmoid())
    assert torch.allclose(jacobian_frobenius(seq, x, method="closed_form"), cf)
    # and the penalties' gradients with respect to the weights agree (double backward)
    g1 = torch.autograd.grad(contractive_penalty(enc, x, "closed_form"), enc.linear.weight)[0]
    g2 = torch.autograd.grad(contractive_penalty(enc, x, "autograd"), enc.linear.weight)[0]
    assert torch.allclose(g1, g2, atol=1e-10)


def test_contractive_penalty_gradcheck():
    torch.manual_seed(0)
    x = torch.randn(3, 4, dtype=torch.float64)
    w = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)

    def pen(w, b, method):
        enc = SigmoidEncoder(4, 2).double()
        del enc.linear.weight, enc.linear.bias
        enc.linear.weight, enc.linear.bias = w, b  # plain tensors: gradcheck differentiates through them
        return contractive_penalty(enc, x, method)

    assert torch.autograd.gradcheck(lambda w, b: pen(w, b, "closed_form"), (w, b))
    assert torch.autograd.gradcheck(lambda w, b: pen(w, b, "autograd"), (w, b))


def test_contractive_autograd_general_encoder_and_errors():
    torch.manual_seed(0)
    enc = DenseEncoder(6, (5,), 3, activation="tanh").double()
    x = torch.randn(4, 6, dtype=torch.float64)
    ref = torch.stack([torch.autograd.functional.jacobian(lambda v: enc(v[None])[0], xi).pow(2).sum() for xi in x])
    assert torch.allclose(jacobian_frobenius(enc, x), ref, atol=1e-12)
    with pytest.raises(TypeError, match="closed_form"):
        jacobian_frobenius(enc, x, method="closed_form")
    with pytest.raises(ValueError, match="method"):
        jacobian_frobenius(enc, x, method="finite")
    # a linear encoder has ||J||_F^2 = ||W||_F^2 for every x
    lin = nn.Linear(6, 3).double()
    assert torch.allclose(jacobian_frobenius(lin, x), lin.weight.pow(2).sum().expand(4))


def test_code_sparsity():
    s = code_sparsity(torch.tensor([[0.0, 0.01, 0.5, -1.0]]), eps=0.05)
    assert s == {"frac_small": 0.5, "mean_abs": pytest.approx(0.3775)}


@pytest.mark.parametrize("kind,lam", [("plain", 0.0), ("sparse", 1e-3), ("contractive", 1e-2), ("denoising", 0.0)])
def test_train_autoencoder_reduces_loss(kind, lam):
    torch.manual_seed(0)
    x = torch.rand(128, 16)
    ae = Autoencoder(SigmoidEncoder(16, 8), nn.Sequential(nn.Linear(8, 16), nn.Sigmoid()))
    with torch.no_grad():
        before = float(reconstruction_loss(ae(x)[0], x))
    st = train_autoencoder(ae, x, kind=kind, lam=lam, epochs=15, batch_size=32, lr=1e-2)
    with torch.no_grad():
        after = float(reconstruction_loss(ae(x)[0], x))
    assert after < before
    assert len(st.history) == 15
    assert st.history[-1]["train_loss"] < st.history[0]["train_loss"]


def test_train_autoencoder_bad_arguments():
    ae = dense_autoencoder(4, (3,), 2)
    x = torch.rand(8, 4)
    with pytest.raises(ValueError, match="kind"):
        train_autoencoder(ae, x, kind="variational", epochs=1)
    with pytest.raises(ValueError, match="lam"):
        train_autoencoder(ae, x, kind="sparse", lam=0.0, epochs=1)
    with pytest.raises(ValueError, match="noise"):
        train_autoencoder(ae, x, kind="denoising", noise="blur", epochs=1)


def test_principal_angles_known_values():
    a = np.eye(3)[:, :1]
    b = np.array([[1.0], [1.0], [0.0]])
    assert np.allclose(principal_angles(a, b), [np.pi / 4])
    assert np.allclose(principal_angles(np.eye(3)[:, :2], np.eye(3)[:, [1, 0]] @ np.array([[2.0, 1.0], [0.0, 3.0]])), 0)
    assert np.allclose(principal_angles(np.eye(4)[:, :2], np.eye(4)[:, 2:]), np.pi / 2)
    with pytest.raises(ValueError, match="same D"):
        principal_angles(np.eye(3), np.eye(4))


def test_linear_ae_spans_sklearn_pca_subspace():
    from sklearn.decomposition import PCA

    from deepcourse.data import load_sklearn

    x, _ = load_sklearn("digits")
    x = x / 16
    torch.manual_seed(0)
    res = linear_ae_pca(x, 4, steps=600, lr=1e-2)
    ref = PCA(4).fit(x.numpy()).components_.T  # (64, 4)
    assert np.degrees(principal_angles(res["model"].decoder.weight, ref)).max() < 1.0
    assert np.degrees(res["angles"]).max() < 1.0
    assert res["mse_ae"] <= res["mse_pca"] * 1.001
    # our PCA helper agrees with sklearn's
    assert np.degrees(principal_angles(pca_basis(x, 4)[0], ref)).max() < 1e-3
    # an untrained linear AE does not: the test can fail
    untrained = LinearAutoencoder(64, 4)
    assert np.degrees(principal_angles(untrained.decoder.weight, ref)).max() > 10


def test_gram_trick_matches_full_batch_training():
    # the linear AE's L2 loss depends on X only through X^T X: training on the SVD-compressed
    # batch follows the same trajectory as training on all samples
    torch.manual_seed(1)
    x = torch.rand(300, 12) @ torch.randn(12, 12)
    torch.manual_seed(0)
    a = linear_ae_pca(x, 3, steps=40, lr=1e-2)
    torch.manual_seed(0)
    b = linear_ae_pca(x, 3, steps=40, lr=1e-2, gram=True)
    assert torch.allclose(a["model"].decoder.weight, b["model"].decoder.weight, atol=1e-4)
    assert a["mse_ae"] == pytest.approx(b["mse_ae"], rel=1e-4)
    with pytest.raises(ValueError, match="gram"):
        linear_ae_pca(x, 3, steps=1, batch_size=10, gram=True)
