"""``gumbel_negative_elbo`` against the discrete model's negative ELBO computed EXACTLY.

With 3 categorical variables of 3 categories there are only 27 codes: E_q[-log p(x|z)] is a sum
over all of them, KL(q || uniform) is a sum over the categories, and -log p(x) is a sum over the
codes weighted by the uniform prior 1/27. ``gumbel_negative_elbo`` draws ONE hard (one-hot) code
per image; averaged over many copies of the same images it must land on the exact value.

Mutants these tests catch (each seen failing): relaxed samples (``hard=False``) instead of
one-hot ones, the categorical KL without its log K (the KL to the uniform prior), the KL term
left out of the loss. (Whether ``gumbel_softmax_sample`` draws category k with probability q_k
is tests/test_gumbel.py's business.)
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

from course_utils.gumbel import GumbelVAE, gumbel_negative_elbo

N_PIXELS, N_VARS, N_CATEGORIES = 12, 3, 3


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _model_and_images(n_images: int = 8) -> tuple[GumbelVAE, torch.Tensor]:
    """An untrained float64 GumbelVAE, and binary images drawn from its own decoder."""
    torch.manual_seed(0)
    model = GumbelVAE(N_PIXELS, (8,), n_vars=N_VARS, n_categories=N_CATEGORIES).double()
    with torch.no_grad():
        model.decoder[-1].weight.mul_(3.0)  # the code matters to the pixels
        model.encoder[-1].weight.mul_(3.0)  # q(z|x) far from uniform
        codes = torch.randint(N_CATEGORIES, (n_images, N_VARS), generator=_gen(1))
        z = F.one_hot(codes, N_CATEGORIES).double()  # (N, V, K)
        probs = torch.sigmoid(model.decoder(z.flatten(1)))  # (N, 12)
    return model, torch.bernoulli(probs, generator=_gen(2))


def exact_terms(model: GumbelVAE, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """E_q[-log p(x|z)], KL(q || uniform) and -log p(x) per image, by enumerating all codes."""
    every = torch.tensor(list(itertools.product(range(N_CATEGORIES), repeat=N_VARS)))  # (27, V)
    z = F.one_hot(every, N_CATEGORIES).double()  # (27, V, K)
    with torch.no_grad():
        logits = model.decoder(z.flatten(1))  # (27, 12)
        q = F.softmax(model.encoder(x).view(-1, N_VARS, N_CATEGORIES), dim=-1)  # (N, V, K)
    t = x[:, None, :]  # (N, 1, 12)
    log_px_z = (t * F.logsigmoid(logits) + (1 - t) * F.logsigmoid(-logits)).sum(-1)  # (N, 27)
    q_code = q[:, torch.arange(N_VARS), every].prod(dim=-1)  # (N, 27): prod_v q_v(code_v)
    recon = -(q_code * log_px_z).sum(dim=1)
    kl = (q * (q * N_CATEGORIES).log()).sum(dim=(1, 2))
    nll = -(torch.logsumexp(log_px_z, dim=1) - N_VARS * torch.log(torch.tensor(3.0)))
    return {"recon": recon, "kl": kl, "nll": nll}


def test_the_enumeration_is_a_distribution_and_a_bound():
    model, x = _model_and_images()
    exact = exact_terms(model, x)
    assert (exact["recon"] + exact["kl"] >= exact["nll"]).all()  # the ELBO is a lower bound
    assert (exact["kl"] > 0.1).all()  # q is not uniform: the KL term is not negligible


def test_gumbel_negative_elbo_matches_the_exact_discrete_bound():
    model, x = _model_and_images()
    exact = {key: value.mean().item() for key, value in exact_terms(model, x).items()}
    result = gumbel_negative_elbo(model, x.repeat(2000, 1), generator=_gen(3))  # 16,000 codes
    assert abs(result["kl"] - exact["kl"]) < 1e-9, (result, exact)  # closed form, no sampling
    assert abs(result["recon"] - exact["recon"]) < 0.02, (result, exact)  # MC noise ~0.003
    assert abs(result["loss"] - (exact["recon"] + exact["kl"])) < 0.02, (result, exact)
    assert result["loss"] >= exact["nll"], (result, exact)
