"""course_utils.vqvae: the tiny VQ-VAE, its straight-through gradient, usage and prior (lesson 07).

Expected values are computed independently (brute-force nearest neighbours, the codebook gradient
written by hand, counts). Mutants these tests catch (each seen failing): the farthest code
instead of the nearest, ``z_q = e`` without the straight-through line (no reconstruction
gradient reaches the encoder), the reconstruction gradient leaking into the codebook (no
``.detach()`` on z_e in the codebook term), the commitment weight ignored, perplexity as the
entropy itself, a prior without its smoothing, bits counted in nats.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.vqvae import (
    VQVAE,
    VQObjective,
    code_indices,
    codebook_usage,
    init_codebook,
    prior_bits,
    sample_codes,
    slot_prior,
    vq_optimizer,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _model():
    torch.manual_seed(0)
    return VQVAE(784, (16,), n_slots=3, code_dim=2, n_codes=5)


def test_quantize_picks_the_nearest_code():
    model = _model()
    z_e = torch.randn(4, 3, 2, generator=_gen())
    indices, e = model.quantize(z_e)
    assert indices.shape == (4, 3) and e.shape == (4, 3, 2)
    for b in range(4):
        for s in range(3):
            distances = [float(((z_e[b, s] - c) ** 2).sum()) for c in model.codebook.detach()]
            assert indices[b, s] == distances.index(min(distances))
    assert torch.equal(e, model.codebook[indices])


def test_forward_is_straight_through_and_the_loss_splits_its_gradients():
    model = _model()
    x = torch.rand(4, 1, 28, 28, generator=_gen(1))
    objective = VQObjective(commitment=0.25)
    loss, logs = objective(model, (x,))
    with torch.no_grad():
        z_e = model.encode(x)
        _, e = model.quantize(z_e)
        bce = F.binary_cross_entropy_with_logits(model.decode(e), x, reduction="none")
        recon = bce.sum(dim=(1, 2, 3))  # (4,)
        sq = ((z_e - e) ** 2).sum(dim=(1, 2))  # (4,)
    assert loss.item() == pytest.approx((recon + 1.25 * sq).mean().item(), rel=1e-5)
    assert logs["recon"].item() == pytest.approx(recon.mean().item(), rel=1e-5)
    assert logs["codebook"].item() == pytest.approx(sq.mean().item(), rel=1e-5)
    size = (z_e**2).sum(dim=(1, 2)).mean().item()  # ||z_e||^2 per image, batch mean
    assert logs["encoder_sq"].item() == pytest.approx(size, rel=1e-5)
    loss.backward()
    # The codebook moves ONLY through ||sg[z_e] - e||^2: d/de of mean_b sum_s ||z_e - e||^2
    indices = model.quantize(z_e)[0]
    expected = torch.zeros_like(model.codebook)
    expected.index_add_(0, indices.flatten(), (2 * (e - z_e) / 4).reshape(-1, 2))
    assert torch.allclose(model.codebook.grad, expected, atol=1e-6)
    # Every parameter's gradient equals that of the loss written by hand: the decoder's gradient
    # reaches the encoder straight through, the codebook term moves only the codebook and the
    # commitment term only the encoder.
    got = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    z_e = model.encode(x)  # (4, 3, 2)
    e = model.codebook[indices]  # the brute-force-checked nearest codes, (4, 3, 2)
    z_q = z_e + (e - z_e).detach()
    logits = model.decoder(z_q.flatten(1))
    recon = F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="none").sum(1)
    codebook_term = ((z_e.detach() - e) ** 2).sum((1, 2))  # (4,)
    commitment_term = ((z_e - e.detach()) ** 2).sum((1, 2))
    by_hand = recon + codebook_term + 0.25 * commitment_term
    by_hand.mean().backward()
    for name, p in model.named_parameters():
        assert torch.allclose(got[name], p.grad, atol=1e-6), name
    assert model.encoder[0].weight.grad.abs().sum() > 0


def test_decode_checks_and_integer_codes():
    model = _model()
    idx = torch.tensor([[0, 4, 2]])
    assert torch.equal(model.decode_indices(idx), model.decode(model.codebook[idx]))
    with pytest.raises(ValueError, match=r"integer codes of shape \(B, 3\)"):
        model.decode_indices(idx.float())
    with pytest.raises(ValueError, match=r"\(B, 3, 2\)"):
        model.decode(torch.zeros(1, 6))


def test_init_codebook_and_code_indices():
    model = _model()
    x = torch.rand(4, 1, 28, 28, generator=_gen(2))
    init_codebook(model, x, generator=_gen(3))
    with torch.no_grad():
        outputs = model.encode(x).reshape(-1, 2)  # (12, 2)
    for code in model.codebook.detach():
        assert (outputs - code).abs().sum(dim=1).min() < 1e-6  # every code is an encoder output
    assert code_indices(model, x).shape == (4, 3)
    with pytest.raises(ValueError, match="at least 5"):
        init_codebook(model, x[:1])


def test_usage_prior_bits_and_samples():
    indices = torch.tensor([[0, 1], [2, 3], [0, 1], [2, 3]])
    used, perplexity = codebook_usage(indices, 8)
    assert used == 4 and perplexity == pytest.approx(4.0)
    assert codebook_usage(torch.zeros(5, 2, dtype=torch.long), 8) == (1, pytest.approx(1.0))
    log_p = slot_prior(indices, 4, smoothing=1.0)  # slot 0: codes 0, 2 twice each -> (3, 1, 3, 1)/8
    assert torch.allclose(log_p.exp()[0], torch.tensor([3, 1, 3, 1], dtype=torch.float64) / 8)
    uniform = torch.full((2, 4), -math.log(4), dtype=torch.float64)
    assert prior_bits(indices, uniform) == pytest.approx(4.0)  # 2 slots x 2 bits
    assert prior_bits(indices, log_p) == pytest.approx(-2 * math.log2(3 / 8))
    peaked = torch.log(torch.tensor([[0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]]))
    samples = sample_codes(peaked, 20_000, generator=_gen(4))
    assert samples.shape == (20_000, 2)
    assert (samples[:, 0] == 0).float().mean() == pytest.approx(0.7, abs=0.02)
    assert (samples[:, 1] == 3).float().mean() == pytest.approx(0.7, abs=0.02)


def test_vq_optimizer_gives_the_codebook_its_own_rate():
    model = _model()
    optimizer = vq_optimizer(model, lr=1e-3, codebook_lr=5e-2)
    groups = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    assert groups[id(model.codebook)] == 5e-2
    assert groups[id(model.encoder[0].weight)] == 1e-3
    assert groups[id(model.decoder[0].weight)] == 1e-3
    assert len(groups) == len(list(model.parameters()))  # every parameter, once
