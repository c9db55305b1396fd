"""course_utils.beta_vae: the beta sweep and its figures (lesson 07)."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.beta_vae import (
    BetaSweep,
    active_units_figure,
    aggregate_posterior_kl,
    aggregate_posterior_split,
    beta_figure,
    beta_sweep,
    beta_view,
    log_mixture_density,
    prior_hole_test,
    split_verdict,
    tradeoff_figure,
)
from course_utils.vae import VAE

X = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _vae(n_latent=2):
    torch.manual_seed(0)
    return VAE(784, (16,), n_latent)


def test_beta_figures_and_view_switch_models():
    models = [_vae(2), VAE(784, (16,), 2)]
    rows = [
        {"beta": 1.0, "recon": 100.0, "kl": 10.0, "loss": 110.0},
        {"beta": 4.0, "recon": 120.0, "kl": 3.0, "loss": 123.0},
    ]
    sweep = BetaSweep(rows, models)
    fig = tradeoff_figure(sweep, highlight=4.0)
    assert len(fig.axes) == 3
    assert list(fig.axes[2].lines[0].get_xdata()) == [10.0, 3.0]  # x: the KL (rate)
    assert list(fig.axes[2].lines[0].get_ydata()) == [100.0, 120.0]  # y: the recon (distortion)
    assert "beta = 4" in beta_figure(sweep, 4.0, X)._suptitle.get_text()
    view = beta_view(sweep, X)
    assert "beta = 1" in view.figure._suptitle.get_text()
    view.controls["beta"].value = 4.0
    assert "beta = 4" in view.figure._suptitle.get_text()


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _one_sample_terms(model, x, seed):
    """BCE summed over pixels and KL(q || N(0, I)), per image, batch-averaged; z = mu + sigma eps
    with eps drawn ONCE from a generator seeded with ``seed`` (the sweep's test protocol)."""
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (N, L) each
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)  # (N,)
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=_gen(seed))
        logits, t = model.decode(z).flatten(1), x.flatten(1)  # (N, 784) each
        recon = -(t * F.logsigmoid(logits) + (1 - t) * F.logsigmoid(-logits)).sum(dim=1)
    return recon.mean().item(), kl.mean().item()


def test_beta_sweep_measures_the_tradeoff():
    torch.manual_seed(0)
    g = _gen()
    patterns = torch.rand(2, 784, generator=g)  # images that mix two patterns: 2 real factors
    x = (torch.rand(300, 2, generator=g) @ patterns / 2).view(300, 1, 28, 28)
    sweep = beta_sweep(lambda: VAE(784, (32,), 4), x[:200], x[200:], betas=[0.5, 4.0, 32.0],
                       epochs=10, batch_size=50, lr=3e-3)  # fmt: skip
    assert sweep.betas == [0.5, 4.0, 32.0] and len(sweep.models) == 3
    assert sweep.model(4.0) is sweep.models[1]
    assert sweep.column("kl")[0] > sweep.column("kl")[-1]  # more beta, less information in z
    for beta, row in zip(sweep.betas, sweep.rows, strict=True):  # measured at beta = 1, by hand
        recon, kl = _one_sample_terms(sweep.model(beta), x[200:], seed=0)
        assert row["kl"] == pytest.approx(kl, rel=1e-5)  # the whole KL, not beta times it
        assert row["recon"] == pytest.approx(recon, rel=1e-5)
        assert row["loss"] == pytest.approx(recon + kl, rel=1e-5)
    good = BetaSweep(rows=[{"beta": 2, "recon": 6, "kl": 1}, {"beta": 1, "recon": 5, "kl": 2}])
    assert good.is_monotone()  # order of the rows does not matter
    bad = BetaSweep(rows=[{"beta": 1, "recon": 5, "kl": 1}, {"beta": 2, "recon": 4, "kl": 0.5}])
    assert not bad.is_monotone()


class _FixedEncoder(torch.nn.Module):
    """encode(x) returns fixed (mu, logvar) rows, one per image index stored in x[:, 0]."""

    def __init__(self, mu, logvar):
        super().__init__()
        self.mu, self.logvar = mu, logvar
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def encode(self, x):
        rows = x[:, 0].long()
        return self.mu[rows], self.logvar[rows]


def test_aggregate_posterior_kl_against_torch_distributions():
    g = _gen(5)
    n, dim = 400, 3
    mu = torch.randn(n, dim, generator=g) @ torch.tensor([[1.0, 0.3, 0], [0, 0.5, 0], [0, 0, 2.0]])
    mu = mu + torch.tensor([0.5, -0.2, 0.0])
    logvar = torch.randn(n, dim, generator=g) * 0.3 - 1.0
    model = _FixedEncoder(mu, logvar)
    x = torch.arange(n, dtype=torch.float32).view(n, 1)
    mean = mu.double().mean(0)
    centred = mu.double() - mean
    mean_var = torch.diag(logvar.double().exp().mean(0))  # (dim, dim)
    cov = centred.T @ centred / n + mean_var  # the law of total variance
    fitted = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov)
    prior = torch.distributions.MultivariateNormal(torch.zeros(dim, dtype=torch.float64),
                                                   torch.eye(dim, dtype=torch.float64))  # fmt: skip
    expected = torch.distributions.kl_divergence(fitted, prior).item()
    assert aggregate_posterior_kl(model, x, batch_size=64) == pytest.approx(expected, rel=1e-6)
    at_prior = _FixedEncoder(torch.zeros(n, dim), torch.zeros(n, dim))  # every q(z|x) = N(0, I)
    assert aggregate_posterior_kl(at_prior, x) == pytest.approx(0.0, abs=1e-9)


def test_tradeoff_titles_do_not_announce_a_direction():
    rows = [{"beta": 1.0, "recon": 100.0, "kl": 1.0, "loss": 101.0},
            {"beta": 4.0, "recon": 90.0, "kl": 3.0, "loss": 93.0}]  # fmt: skip
    titles = " ".join(ax.get_title() for ax in tradeoff_figure(BetaSweep(rows)).axes)
    assert not any(word in titles for word in ("rise", "fall", "grow", "drop"))


def test_active_units_figure_draws_the_threshold():
    fig = active_units_figure({"a": torch.tensor([1.0, 0.001]), "b": torch.tensor([0.5, 0.2])})
    ax = fig.axes[0]
    assert len(ax.lines) == 3 and ax.get_yscale() == "log"
    assert list(ax.lines[0].get_ydata()) == pytest.approx([1.0, 0.001])
    assert list(ax.lines[2].get_ydata()) == [0.01, 0.01]
    assert ax.get_legend() is None and len(fig.legends) == 1  # outside the axes: hides no line


def test_beta_sweep_logs_steps_and_binarizes():
    torch.manual_seed(0)
    x = torch.rand(40, 1, 28, 28, generator=_gen(6))
    seen = []
    sweep = beta_sweep(lambda: VAE(784, (8,), 2), x, (x > 0.5).float(), betas=[1.0, 2.0], epochs=2,
                       batch_size=10, log_every=3, binarize=True)  # fmt: skip
    assert len(sweep.logs) == 2 and [row["step"] for row in sweep.logs[0].rows] == [3, 6]
    for model in sweep.models:  # trained on binary batches: record what the encoder was fed
        model.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    objective = sweep.logs[0].objective
    assert objective.binarize and objective.beta == 1.0 and sweep.logs[1].objective.beta == 2.0
    sweep.models[0].train()
    objective(sweep.models[0], (x[:5],))
    assert set(seen[-1].unique().tolist()) <= {0.0, 1.0}


def _quadrature_split(mu, logvar):
    """KL(q || N(0, 1)) and I(x; z) of a 1-D mixture by numerical integration (independent)."""
    grid = torch.linspace(-12, 12, 200_001, dtype=torch.float64)  # (G,)
    step = grid[1] - grid[0]
    comps = torch.distributions.Normal(mu.double(), (0.5 * logvar.double()).exp())
    dens = comps.log_prob(grid[:, None]).exp()  # (G, N)
    mix = dens.mean(1)  # (G,)
    prior = torch.distributions.Normal(0.0, 1.0).log_prob(grid).exp().double()
    kl = (mix * (mix / prior).log()).nan_to_num().sum() * step
    mi = ((dens * (dens / mix[:, None]).log()).nan_to_num().sum(0) * step).mean()
    return float(kl), float(mi)


def test_aggregate_posterior_split_matches_quadrature_and_sums_to_the_rate():
    mu = torch.tensor([[-2.0], [0.5], [3.0]])  # three well-separated posteriors, 1-D
    logvar = torch.tensor([[-2.0], [-1.0], [-3.0]])
    model = _FixedEncoder(mu, logvar)
    x = torch.arange(3, dtype=torch.float32).view(3, 1)
    out = aggregate_posterior_split(model, x, samples_per_image=20_000, generator=_gen(0))
    kl, mi = _quadrature_split(mu[:, 0], logvar[:, 0])
    assert out["kl_q_prior"] == pytest.approx(kl, abs=0.03)
    assert out["mutual_info"] == pytest.approx(mi, abs=0.03)
    assert out["mutual_info"] <= out["log_n"] + 1e-9
    rate = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1).mean().item()  # analytic mean KL
    assert out["rate"] == pytest.approx(rate, abs=0.03)
    assert out["mutual_info"] + out["kl_q_prior"] == pytest.approx(out["rate"], abs=1e-9)


def test_aggregate_posterior_split_sees_gaps_the_moment_fit_misses():
    g = _gen(3)
    centres = torch.randn(20, 2, generator=g)
    centres = centres - centres.mean(0)
    chol = torch.linalg.cholesky(torch.cov(centres.T, correction=0) + 1e-4 * torch.eye(2))
    tight = 1e-4  # posterior variance: 20 tight clusters
    centres = centres @ torch.linalg.inv(chol).T * (1 - tight) ** 0.5  # whitened: total cov = I
    mu = centres.repeat_interleave(5, dim=0)  # (100, 2): 5 images per cluster
    logvar = torch.full_like(mu, math.log(tight))
    model = _FixedEncoder(mu, logvar)
    x = torch.arange(100, dtype=torch.float32).view(100, 1)
    assert aggregate_posterior_kl(model, x) == pytest.approx(0.0, abs=0.01)  # moments match
    out = aggregate_posterior_split(model, x, generator=_gen(1))
    assert out["kl_q_prior"] > 5.0  # the gaps between the 20 clusters: several nats
    assert out["mutual_info"] == pytest.approx(math.log(20), abs=0.05)  # 20 distinguishable codes


def _averaged_toy_split(m, draws, generator):
    """The split of a 1-D toy of known answer, averaged over ``draws`` independent sets of m images.

    x ~ N(0, 4), q(z | x) = N(x, 0.01): I(x; z) = 0.5 log(401) = 3.00 nats, q(z) = N(0, 4.01),
    KL(q(z) || N(0, 1)) = 0.5 (3.01 - log 4.01) = 0.81 nats. Returns the mean of each number and
    the standard error of that mean over the draws.
    """
    outs = []
    for _ in range(draws):
        mu = 2 * torch.randn(m, 1, generator=generator)  # (m, 1): the codes' means, x itself
        model = _FixedEncoder(mu, torch.full_like(mu, math.log(0.01)))
        x = torch.arange(m, dtype=torch.float32).view(m, 1)
        outs.append(aggregate_posterior_split(model, x, generator=generator))
    mean = {"log_n": math.log(m)}
    for key in ("rate", "kl_q_prior", "mutual_info"):
        values = torch.tensor([out[key] for out in outs], dtype=torch.float64)  # (draws,)
        mean[key], mean[key + "_se"] = values.mean().item(), (values.std() / draws**0.5).item()
    return mean


def test_split_verdict_needs_a_kl_part_that_no_longer_moves_with_m():
    g = _gen(0)
    split = {25: _averaged_toy_split(25, 100, g), 50: _averaged_toy_split(50, 100, g)}
    true_kl = 0.5 * (3.01 - math.log(4.01))  # 0.81 nats
    assert split[50]["mutual_info"] < 0.9 * math.log(50)  # the I test alone would say "measured"
    assert split[50]["kl_q_prior"] > 1.2 * true_kl + 2 * split[50]["kl_q_prior_se"]  # but it is not
    verdict = split_verdict(split)
    assert not verdict["measured"] and verdict["moving"] and not verdict["at_ceiling"]
    assert verdict["reason"] == "KL part still moves with M"
    assert verdict["drift"] == pytest.approx(split[25]["kl_q_prior"] - split[50]["kl_q_prior"])
    assert verdict["drift"] > 2 * verdict["drift_se"] > 0


def test_split_verdict_branches_on_made_up_numbers():
    def entry(mi, kl, se=0.05):
        return {"mutual_info": mi, "kl_q_prior": kl, "kl_q_prior_se": se}

    steady = {250: entry(0.5, 0.90), 500: entry(2.0, 0.42), 1000: entry(2.1, 0.40)}  # M/4 ignored
    assert split_verdict(steady)["measured"] and split_verdict(steady)["reason"] == "measured"
    assert split_verdict(steady)["drift_se"] == pytest.approx(math.hypot(0.05, 0.05))
    ceiling = {500: entry(6.2, 10.6), 1000: entry(0.95 * math.log(1000), 10.6)}  # steady, capped
    assert split_verdict(ceiling)["reason"] == "I at its ceiling"
    assert not split_verdict(ceiling)["measured"]
    rising = {500: entry(2.0, 0.40), 1000: entry(2.1, 0.60)}  # a move either way counts
    assert split_verdict(rising)["moving"] and split_verdict(rising)["drift"] == pytest.approx(-0.2)
    assert split_verdict(rising, n_se=3.0)["measured"]  # 0.2 nats is 2.8 standard errors
    with pytest.raises(ValueError, match="two sizes"):
        split_verdict({1000: entry(2.1, 0.4)})


def test_tradeoff_figure_draws_the_lowest_elbo_line():
    rows = [{"beta": 0.5, "recon": 90.0, "kl": 30.0, "loss": 120.0},
            {"beta": 1.0, "recon": 100.0, "kl": 12.0, "loss": 112.0},
            {"beta": 4.0, "recon": 130.0, "kl": 3.0, "loss": 133.0}]  # fmt: skip
    fig = tradeoff_figure(BetaSweep(rows=rows))
    line = [ln for ln in fig.axes[2].get_lines() if ln.get_linestyle() == "--"][0]
    xs, ys = line.get_xdata(), line.get_ydata()
    assert (ys[1] - ys[0]) / (xs[1] - xs[0]) == pytest.approx(-1.0)
    assert xs[0] + ys[0] == pytest.approx(112.0)  # through the beta = 1 point: recon + KL = 112


def test_log_mixture_density_against_torch_mixture():
    g = _gen(7)
    mu, logvar = torch.randn(50, 3, generator=g), torch.randn(50, 3, generator=g) * 0.5 - 1
    z = torch.randn(40, 3, generator=g) * 2
    comps = torch.distributions.Independent(torch.distributions.Normal(mu, (0.5 * logvar).exp()), 1)
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.ones(50)), comps
    )
    expected = mix.log_prob(z).double()  # (40,)
    assert torch.allclose(log_mixture_density(z, mu, logvar, chunk=7), expected, atol=1e-4)


def test_prior_hole_test_finds_holes_only_where_there_are_some():
    n = 600
    x = torch.arange(2 * n, dtype=torch.float32).view(2 * n, 1)
    # q(z) = the prior: every posterior is N(0, I), so prior samples fall below the 5% threshold
    # of the new codes about 5% of the time
    at_prior = _FixedEncoder(torch.zeros(2 * n, 2), torch.zeros(2 * n, 2))
    out = prior_hole_test(at_prior, x[:n], x[n:], n_prior=2000, generator=_gen(0))
    assert out["hole_share"] == pytest.approx(0.05, abs=0.025)
    assert out["z_prior"].shape == (2000, 2) and out["z_new"].shape == (n, 2)
    assert out["in_hole"].double().mean().item() == pytest.approx(out["hole_share"])
    # 20 tight clusters with the prior's mean and covariance: most prior samples miss them all
    g = _gen(3)
    centres = torch.randn(20, 2, generator=g)
    centres = (centres - centres.mean(0)) / centres.std(0)
    mu = centres[torch.arange(2 * n) % 20]  # (2n, 2)
    clusters = _FixedEncoder(mu, torch.full_like(mu, math.log(1e-3)))
    out = prior_hole_test(clusters, x[:n], x[n:], n_prior=2000, generator=_gen(1))
    assert out["hole_share"] > 0.8
    assert out["hole_share_se"] == pytest.approx(
        math.sqrt(out["hole_share"] * (1 - out["hole_share"]) / 2000)
    )


def test_prior_hole_test_needs_enough_new_images():
    model = _FixedEncoder(torch.zeros(30, 2), torch.zeros(30, 2))
    x = torch.arange(30, dtype=torch.float32).view(30, 1)
    with pytest.raises(ValueError, match="at least 20 new images"):
        prior_hole_test(model, x[:25], x[25:])
