"""The VAE of Kingma & Welling 2014 on Fashion-MNIST, with the protocol of Burda et al. 2016."""

from __future__ import annotations

from deepcourse.core import Reference, Run, at_least, at_most, experiment

from ..vae_benchmark import VAEBenchmarkConfig, run_vae_benchmark

# quick: a 2,000-image subset, latent 8, 15 epochs, IWAE with k = 200 on 200 test images; the quantile grid varies
# z1, z2 of that model (no separate 2-D VAE)
QUICK = VAEBenchmarkConfig(subset=2000, test_subset=1000, latent_dim=8, epochs=15, batch_size=50, lr=3e-3, k=200,
                           n_iw=200, grid_epochs=0, grid_n=12, n_fid=1000, fid_features="small")
# full: as vae-mnist (the images have the same size)
FULL = VAEBenchmarkConfig(hidden=200, latent_dim=50, epochs=20, k=5000, n_iw=500, grid_epochs=5, n_fid=5000)


@experiment(
    name="vae-fashion", module="3", title="VAE on Fashion-MNIST: test ELBO, importance-weighted NLL, FID",
    paper=Reference("Kingma & Welling 2014 (method); no Fashion-MNIST value published", {}),
    quick=QUICK, full=FULL,
    # seeds 0-4, threads 1 and 2: nll_vs_baseline 0.667-0.677, test_kl 9.7-10.9 nats, iw_gap 4.6-7.4, fid_ratio
    # 0.384-0.407. A collapsed posterior (beta = 50): 0.81, KL 0.57, FID ratio 0.69, all three fail.
    floor={"nll_vs_baseline": at_most(0.75), "test_kl": at_least(3.0), "iw_gap": at_least(0.0),
           "fid_ratio": at_most(0.55)},
    primary="test_nll", threads=1,
)
def vae_fashion(cfg: VAEBenchmarkConfig, run: Run) -> dict[str, float]:
    """The VAE of ``vae-mnist`` on dynamically binarised Fashion-MNIST (grey levels read as Bernoulli
    probabilities): test ELBO, importance-weighted NLL, active units, samples and their FID."""
    return run_vae_benchmark(cfg, run, "fashion-mnist", "VAE (Fashion-MNIST)")
