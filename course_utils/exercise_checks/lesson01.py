"""Checks for exercise 01 (linear autoencoder and PCA): PCA by SVD, encoding and decoding with it,
principal angles, one training step of a linear autoencoder, PCA's ordered basis read back from a
trained linear autoencoder, and the predicted cost of turning a principal direction.

References are written here, with torch only: the course's ``course_utils.pca`` is what the
student re-implements, so it is never used. One idea: the checks of one exercise, task by task
in the exercise's order (over 400 lines because each task gets its own diagnosis of the typical
wrong answers: unsorted or unnormalised components, uncentred data, the data's PCA instead of
the network's, singular values instead of variances).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, call, check, forbid, randint
from course_utils.exercise_checks.expect import Mistake

POINTS = {
    "pca_fit": 2,
    "pca_codec": 2,
    "principal_angles": 2,
    "linear_ae_step": 2,
    "pca_from_ae": 2,
    "predict_turn_cost": 1,
}


def _cloud(n: int, d: int, g: torch.Generator) -> Tensor:
    """(n, d) data with clearly different variances along random directions, far from 0."""
    scales = torch.linspace(3.0, 0.3, d)
    rotation, _ = torch.linalg.qr(torch.randn(d, d, generator=g))
    offset = 2.0 + 3.0 * torch.rand(d, generator=g)
    return (torch.randn(n, d, generator=g) * scales) @ rotation.T + offset


def _reject_columns(comps: Tensor, k: int, d: int, where: str = "") -> None:
    """Fail with a clear message when k components of length d come as columns, shape (d, k)."""
    if tuple(comps.shape) == (d, k):
        raise Wrong(
            "components as columns",
            f"The components have shape {(d, k)}: one per COLUMN. Return them as rows, "
            f"shape {(k, d)}: the first k rows of Vh{where}.",
            f"Các thành phần có kích thước {(d, k)}: mỗi thành phần là một CỘT. Hãy trả về "
            f"dạng hàng, kích thước {(k, d)}: k hàng đầu của Vh{where.replace('from', 'từ')}.",
        )


def _rows_match_up_to_sign(c: Tensor, ref: Tensor, atol: float = 2e-3) -> bool:
    if c.shape != ref.shape:
        return False
    c, ref = c.detach().double(), ref.double()
    signs = torch.sign((c * ref).sum(dim=1, keepdim=True))
    return bool(torch.allclose(c * signs, ref, atol=atol))


def _matching_rows(comps: Tensor, basis: Tensor) -> list[int] | None:
    """For each row of ``comps``, the index of the row of ``basis`` it equals up to sign."""
    cos = (comps.detach().double() @ basis.T).abs()  # (k, D): |<c_i, v_j>|
    best = cos.max(dim=1)
    if comps.shape[1] != basis.shape[1] or not torch.all(best.values > 1 - 1e-3):
        return None
    return best.indices.tolist()


@check("pca_fit", POINTS)
def check_pca_fit(fit_pca, g: torch.Generator) -> Values:
    """``fit_pca(x (N, D), k) -> (mean (D,), components (k, D))`` by SVD of the centred data."""
    for _ in range(3):
        n, d = randint(g, 30, 60), randint(g, 5, 10)
        k = randint(g, 2, d - 2)
        x = _cloud(n, d, g)
        with forbid("course_utils.pca:PCA.fit"):
            out = call(fit_pca, x.clone(), k)
        mean, comps = expect.tensors(
            out,
            ("the mean", "the components"),
            "fit_pca should return (mean, components).",
            "fit_pca cần trả về (mean, components).",
        )
        expect.shape(mean, (d,), "The mean", (" Use x.mean(dim=0).", " Dùng x.mean(dim=0)."))
        expect.close(mean, x.double().mean(0), "The mean")
        _reject_columns(comps, k, d, " from torch.linalg.svd")
        expect.shape(comps, (k, d), "The components")
        expect.dtype(comps, x.dtype, "The components")
        vh = torch.linalg.svd(x.double() - x.double().mean(0), full_matrices=False)[2]
        if _rows_match_up_to_sign(comps, vh[:k]):
            continue
        _diagnose_components(comps, x, vh, k)


def _diagnose_components(comps: Tensor, x: Tensor, vh: Tensor, k: int) -> None:
    uncentred = torch.linalg.svd(x.double(), full_matrices=False)[2]
    gram = comps.detach().double() @ comps.detach().double().T
    if _rows_match_up_to_sign(comps, uncentred[:k]):
        raise Wrong(
            "data not centred",
            "Your components are the SVD of x itself. Centre the data first: x - x.mean(dim=0); "
            "otherwise the first direction points at the mean instead of the largest variance.",
            "Các thành phần của bạn là SVD của chính x. Hãy trừ trung bình trước: "
            "x - x.mean(dim=0); nếu không, hướng đầu tiên chỉ về phía trung bình chứ không phải "
            "hướng có phương sai lớn nhất.",
        )
    rows = _matching_rows(comps, vh)
    if rows is not None:
        raise Wrong(
            "wrong order",
            f"Your rows are principal directions number {rows} (0 = largest variance). Keep the k "
            "directions of LARGEST variance, largest first: torch.linalg.svd sorts them so, while "
            "torch.linalg.eigh sorts eigenvalues in ascending order.",
            f"Các hàng của bạn là các hướng chính số {rows} (0 = phương sai lớn nhất). Hãy giữ k "
            "hướng có phương sai LỚN nhất, lớn nhất trước: torch.linalg.svd đã sắp như vậy, còn "
            "torch.linalg.eigh sắp trị riêng tăng dần.",
        )
    if _rows_match_up_to_sign(comps, vh.T[:k]):
        raise Wrong(
            "rows of V instead of rows of Vh",
            "These are rows of V = Vh.T. The principal directions are the ROWS of Vh (the third "
            "output of torch.linalg.svd), i.e. the columns of V.",
            "Đây là các hàng của V = Vh.T. Các hướng chính là các HÀNG của Vh (đầu ra thứ ba của "
            "torch.linalg.svd), tức là các cột của V.",
        )
    if not torch.allclose(gram, torch.eye(k, dtype=torch.float64), atol=1e-3):
        raise Wrong(
            "components not orthonormal",
            "The components should be orthonormal rows (unit length, at right angles): did you "
            "scale them by the singular values or take them from U?",
            "Các thành phần phải là các hàng trực chuẩn (độ dài 1, vuông góc nhau): bạn có nhân "
            "chúng với các giá trị suy biến hay lấy chúng từ U không?",
        )
    raise Wrong(
        "wrong components",
        "The components do not span the principal directions: take the first k rows of Vh from "
        "torch.linalg.svd(x - mean, full_matrices=False).",
        "Các thành phần không phải các hướng chính: hãy lấy k hàng đầu của Vh từ "
        "torch.linalg.svd(x - mean, full_matrices=False).",
    )


@check("pca_codec", POINTS)
def check_pca_codec(pca_encode, pca_decode, g: torch.Generator) -> Values:
    """``pca_encode(x, mean, components) -> (N, k)``, ``pca_decode(z, mean, components) -> x``."""
    n, d = randint(g, 5, 12), randint(g, 6, 12)
    k = randint(g, 2, d - 3)
    x = torch.randn(n, d, generator=g) + 2.0
    mean = torch.randn(d, generator=g) + 1.0
    comps = torch.linalg.qr(torch.randn(d, k, generator=g))[0].T.contiguous()  # (k, d)
    z = expect.tensor(call(pca_encode, x.clone(), mean.clone(), comps.clone()), "pca_encode")
    expect.shape(z, (n, k), "pca_encode(x)")
    z_ref = (x - mean) @ comps.T
    expect.close(
        z,
        z_ref,
        "pca_encode(x)",
        [
            Mistake(
                x @ comps.T,
                "encode without centring",
                "pca_encode forgets to subtract the mean before projecting: (x - mean) @ C.T.",
                "pca_encode quên trừ trung bình trước khi chiếu: (x - mean) @ C.T.",
            ),
        ],
    )
    x_hat = expect.tensor(call(pca_decode, z_ref, mean.clone(), comps.clone()), "pca_decode")
    expect.shape(x_hat, (n, d), "pca_decode(z)")
    expect.close(
        x_hat,
        z_ref @ comps + mean,
        "pca_decode(z)",
        [
            Mistake(
                z_ref @ comps,
                "decode without the mean",
                "pca_decode forgets to add the mean back: z @ C + mean.",
                "pca_decode quên cộng lại trung bình: z @ C + mean.",
            ),
        ],
    )


@check("principal_angles", POINTS)
def check_principal_angles(principal_angles_deg, g: torch.Generator) -> Values:
    """``principal_angles_deg(a (D, k1), b (D, k2)) -> (min(k1, k2),)`` degrees, smallest first."""
    d, k1, k2 = randint(g, 7, 12), randint(g, 2, 4), randint(g, 2, 4)
    shared = torch.randn(d, 1, generator=g)
    a = torch.cat([shared, torch.randn(d, k1 - 1, generator=g)], 1)  # one direction in common
    b = torch.cat([2 * shared, torch.randn(d, k2 - 1, generator=g)], 1)
    a = a @ (torch.eye(k1) + 0.8 * torch.randn(k1, k1, generator=g))  # not orthonormal
    b = 3.0 * b
    with forbid("course_utils.pca:principal_angles_deg"):
        got = expect.tensor(call(principal_angles_deg, a.clone(), b.clone()), "principal_angles")
    expect.shape(got, (min(k1, k2),), "principal_angles_deg(a, b)")
    qa, qb = torch.linalg.qr(a.double())[0], torch.linalg.qr(b.double())[0]
    cos = torch.linalg.svdvals(qa.T @ qb).clamp(-1, 1)
    ref = torch.rad2deg(torch.arccos(cos))
    raw = torch.rad2deg(torch.arccos(torch.linalg.svdvals(a.double().T @ b.double()).clamp(-1, 1)))
    unit = lambda m: m.double() / m.double().norm(dim=0)  # noqa: E731
    normed = torch.rad2deg(torch.arccos(torch.linalg.svdvals(unit(a).T @ unit(b)).clamp(-1, 1)))
    orthonormal = (
        "Orthonormalise the columns first (torch.linalg.qr): a.T @ b holds cosines "
        "only when both sets of columns are orthonormal.",
        "Hãy trực chuẩn hóa các cột trước (torch.linalg.qr): a.T @ b chỉ chứa cosin "
        "khi cả hai tập cột đều trực chuẩn.",
    )
    expect.close(
        got,
        ref,
        "principal_angles_deg(a, b)",
        [
            Mistake(
                torch.deg2rad(ref),
                "radians instead of degrees",
                "These are radians: return degrees (torch.rad2deg).",
                "Đây là radian: hãy trả về độ (torch.rad2deg).",
            ),
            Mistake(
                ref.flip(0),
                "largest angle first",
                "Sort the angles smallest first (the order svdvals gives after arccos).",
                "Hãy sắp các góc từ nhỏ đến lớn (thứ tự svdvals cho sau khi lấy arccos).",
            ),
            Mistake(
                cos,
                "returned cosines",
                "You returned the cosines; the angles are torch.arccos of them, in degrees.",
                "Bạn trả về các cosin; góc là torch.arccos của chúng, tính bằng độ.",
            ),
            Mistake(raw, "columns not orthonormalised", *orthonormal),
            Mistake(normed, "columns not orthonormalised", *orthonormal),
        ],
        atol=0.1,
    )
    return {"d": d, "k1": k1, "k2": k2}  # for PASSED["principal_angles"]


def _flat(params) -> Tensor:
    return torch.cat([p.detach().double().flatten() for p in params])


@check("linear_ae_step", POINTS)
def check_train_step(train_step, g: torch.Generator) -> Values:
    """``train_step(model, x, optimizer) -> float``: one step on the squared error per image."""
    d, k, b = randint(g, 8, 16), randint(g, 2, 4), randint(g, 6, 12)
    lr = 0.01 + 0.04 * float(torch.rand(1, generator=g))
    model = nn.Sequential(nn.Linear(d, k), nn.Linear(k, d))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=g))
    x = torch.rand(b, d, generator=g)
    before = [p.detach().clone() for p in model.parameters()]
    loss = ((model(x) - x) ** 2).sum(dim=1).mean()  # the reference: per image, batch mean
    grads = torch.autograd.grad(loss, list(model.parameters()))
    stale = [torch.randn(p.shape, generator=g) for p in model.parameters()]
    for p, s in zip(model.parameters(), stale, strict=True):
        p.grad = s.clone()  # left over from an earlier step: zero_grad must clear it
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    value = call(train_step, model, x.clone(), optimizer)
    if isinstance(value, torch.Tensor):
        raise Wrong(
            "returned a tensor",
            "Return the loss as a Python float: loss.item().",
            "Hãy trả về giá trị mất mát dạng số thực Python: loss.item().",
        )
    got = expect.number(value, "The returned loss")
    ref = loss.item()
    if not expect.about(got, ref, 1e-4):
        hints = {
            ref / d: (
                "mean instead of sum",
                "The loss is averaged over the pixels too "
                "(mean instead of sum; F.mse_loss does this by default). The course "
                "sums over the pixels of an image, then averages over images.",
                "Mất mát đang lấy trung bình cả trên các điểm ảnh (mean thay vì "
                "sum; F.mse_loss mặc định làm vậy). Khóa học cộng trên các điểm ảnh "
                "của một ảnh, rồi lấy trung bình trên các ảnh.",
            ),
            ref * b: (
                "summed over the batch",
                "The loss is summed over the batch too; "
                "average over the images: .sum(dim=1).mean().",
                "Mất mát đang cộng cả trên batch; hãy lấy trung bình trên các ảnh: "
                ".sum(dim=1).mean().",
            ),
        }
        for wrong, hint in hints.items():
            if expect.about(got, wrong, 1e-4):
                raise Wrong(*hint)
        raise Wrong(
            "wrong loss",
            f"The returned loss is {got:.5g}, expected {ref:.5g} (squared "
            "error summed over pixels, averaged over the batch, BEFORE the step).",
            f"Giá trị mất mát trả về là {got:.5g}, cần {ref:.5g} (bình phương sai số "
            "cộng trên điểm ảnh, trung bình trên batch, TRƯỚC bước tối ưu).",
        )
    after = _flat(model.parameters())
    step = lambda gs: _flat(before) - lr * _flat(gs)  # noqa: E731
    expect.close(
        after,
        step(grads),
        "The parameters after your step",
        [
            Mistake(
                _flat(before),
                "no update",
                "The parameters did not change: call loss.backward() and then optimizer.step().",
                "Tham số không thay đổi: hãy gọi loss.backward() rồi optimizer.step().",
            ),
            Mistake(
                step([gr + s for gr, s in zip(grads, stale, strict=True)]),
                "no zero_grad",
                "Old gradients were added to the new ones: call optimizer.zero_grad() before "
                "loss.backward().",
                "Gradient cũ bị cộng vào gradient mới: hãy gọi "
                "optimizer.zero_grad() trước loss.backward().",
            ),
            Mistake(
                step(stale),
                "no backward",
                "The step used stale gradients: call loss.backward() before optimizer.step().",
                "Bước tối ưu dùng gradient cũ: hãy gọi loss.backward() trước optimizer.step().",
            ),
        ],
        atol=1e-5,
    )


def _autoencoder_onto(basis: Tensor, mean: Tensor, g: torch.Generator) -> nn.Module:
    """A LinearAutoencoder(D, k) whose output is the orthogonal projection of x onto the plane
    through ``mean`` spanned by the orthonormal rows of ``basis`` (k, D), written in an arbitrary
    basis (W_e = C basis, W_d = basis^T C^-1) with an arbitrary shift of the code, as training
    leaves it."""
    from course_utils.models import LinearAutoencoder

    k, d = basis.shape
    c = torch.eye(k) + 0.5 * torch.randn(k, k, generator=g)  # invertible, not orthogonal
    shift = torch.randn(k, generator=g)
    model = LinearAutoencoder(n_inputs=d, n_latent=k)
    with torch.no_grad():
        model.encoder.weight.copy_(c @ basis)  # (k, D)
        model.encoder.bias.copy_(shift - c @ basis @ mean)
        model.decoder.weight.copy_(basis.T @ torch.linalg.inv(c))  # (D, k)
        model.decoder.bias.copy_(mean - model.decoder.weight @ shift)
    return model


def _svd_directions(y: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """(k, D) principal directions and (k,) variances (divided by N) of the rows of y (N, D)."""
    y = y.double()
    _, s, vh = torch.linalg.svd(y - y.mean(0), full_matrices=False)
    return vh[:k], s[:k] ** 2 / len(y)


@check("pca_from_ae", POINTS)
def check_pca_from_autoencoder(pca_from_autoencoder, g: torch.Generator) -> Values:
    """``pca_from_autoencoder(model, x) -> (components (k, D), variances (k,))``: PCA's ordered
    directions and variances, read from a trained LinearAutoencoder(D, k) through its outputs."""
    k = 3
    for turned in (False, True):
        n, d = randint(g, 200, 300), randint(g, 7, 10)
        x = _cloud(n, d, g)  # variances 3.0 ... 0.3 along random directions, far from 0
        data_dirs, _ = _svd_directions(x, d)
        basis = data_dirs[:k].clone()
        if turned:  # a model whose subspace is NOT PCA's: v3 turned 35 degrees towards v4
            t = torch.deg2rad(torch.tensor(35.0, dtype=torch.float64))
            basis[2] = torch.cos(t) * data_dirs[2] + torch.sin(t) * data_dirs[3]
        model = _autoencoder_onto(basis.float(), x.mean(0), g)
        with torch.no_grad():
            recon = model(x)  # (n, d)
        ref_dirs, ref_var = _svd_directions(recon, k)
        with forbid("course_utils.pca:PCA.fit"):
            out = call(pca_from_autoencoder, model, x.clone())
        comps, var = expect.tensors(
            out,
            ("the components", "the variances"),
            "pca_from_autoencoder should return (components, variances).",
            "pca_from_autoencoder cần trả về (components, variances).",
        )
        _reject_columns(comps, k, d)
        expect.shape(comps, (k, d), "The components")
        expect.shape(var, (k,), "The variances")
        if not _rows_match_up_to_sign(comps, ref_dirs, atol=5e-3):
            _diagnose_recovered(comps, model, x, recon, data_dirs, turned, k)
        _check_variances(var, ref_var, recon, n)
    return {"d": d}


def _diagnose_recovered(comps, model, x, recon, data_dirs, turned, k) -> None:
    w_d = model.decoder.weight.detach().double()  # (D, k)
    unit = (w_d / w_d.norm(dim=0)).T  # (k, D)
    columns = _rows_match_up_to_sign(comps, w_d.T, atol=5e-3)
    if columns or _rows_match_up_to_sign(comps, unit, atol=5e-3):
        raise Wrong(
            "decoder columns",
            "These are the decoder's columns (W_d): they span the right subspace, but in an "
            "arbitrary basis, neither orthogonal nor ordered. Take the SVD of the model's centred "
            "outputs instead.",
            "Đây là các cột của bộ giải mã (W_d): chúng sinh đúng không gian con nhưng theo một "
            "cơ sở tùy ý, không trực giao và không có thứ tự. Hãy lấy SVD của các đầu ra đã trừ "
            "trung bình của mô hình.",
        )
    uncentred = torch.linalg.svd(recon.double(), full_matrices=False)[2][:k]  # (k, D)
    if _rows_match_up_to_sign(comps, uncentred, atol=5e-3):
        raise Wrong(
            "outputs not centred",
            "You took the SVD of the outputs without centring them: subtract their mean first "
            "(recon - recon.mean(dim=0)); otherwise the first direction points at the mean.",
            "Bạn lấy SVD của các đầu ra mà chưa trừ trung bình: hãy trừ trung bình trước "
            "(recon - recon.mean(dim=0)); nếu không, hướng đầu tiên chỉ về phía trung bình.",
        )
    if turned and _rows_match_up_to_sign(comps, data_dirs[:k], atol=5e-3):
        raise Wrong(
            "PCA of the data, not of the network",
            "These are the principal directions of x itself. The task is to read them from the "
            "network: take the SVD of the model's outputs model(x). (Here the model's subspace is "
            "not PCA's, so the two differ.)",
            "Đây là các hướng chính của chính x. Bài yêu cầu đọc chúng từ mạng: hãy lấy SVD của "
            "đầu ra model(x). (Ở đây không gian con của mô hình khác của PCA, nên hai kết quả khác "
            "nhau.)",
        )
    centred = recon.double() - recon.double().mean(0)
    all_dirs = torch.linalg.svd(centred, full_matrices=False)[2]
    rows = _matching_rows(comps, all_dirs)
    if rows is not None:
        raise Wrong(
            "wrong order",
            f"Your rows are the outputs' principal directions number {rows} (0 = largest "
            "variance). Return the k directions of LARGEST variance, largest first: "
            "torch.linalg.svd sorts them so, torch.linalg.eigh sorts in ascending order.",
            f"Các hàng của bạn là các hướng chính số {rows} của đầu ra (0 = phương sai lớn "
            "nhất). Hãy trả về k hướng có phương sai LỚN nhất, lớn nhất trước: torch.linalg.svd "
            "đã sắp như vậy, còn torch.linalg.eigh sắp tăng dần.",
        )
    raise Wrong(
        "wrong components",
        "The components are not the principal directions of the model's outputs: take the first "
        "k rows of Vh from torch.linalg.svd(recon - recon.mean(dim=0), full_matrices=False), "
        "with recon = model(x).",
        "Các thành phần không phải các hướng chính của đầu ra mô hình: hãy lấy k hàng đầu của "
        "Vh từ torch.linalg.svd(recon - recon.mean(dim=0), full_matrices=False), với "
        "recon = model(x).",
    )


def _check_variances(var: Tensor, ref: Tensor, recon: Tensor, n: int) -> None:
    got = var.detach().double()
    if torch.allclose(got, ref, rtol=1e-3) or torch.allclose(got, ref * n / (n - 1), rtol=1e-3):
        return  # dividing by N or by N - 1 are both accepted
    s = (ref * n).sqrt()  # the singular values
    mistakes = [
        (
            s,
            "singular values",
            "These are the singular values s_j. The variance along direction j is s_j**2 / N.",
            "Đây là các giá trị suy biến s_j. Phương sai theo hướng j là s_j**2 / N.",
        ),
        (
            s**2,
            "not divided by N",
            "These are s_j**2, summed over the N samples: divide by N for the variance.",
            "Đây là s_j**2, tổng trên N mẫu: hãy chia cho N để được phương sai.",
        ),
        (
            ref.flip(0),
            "variances in the wrong order",
            "The variances must be in the order of the components, largest first.",
            "Các phương sai phải theo thứ tự của các thành phần, lớn nhất trước.",
        ),
    ]
    for value, note, en, vi in mistakes:
        if torch.allclose(got, value, rtol=1e-3):
            raise Wrong(note, en, vi)
    raw = torch.linalg.svdvals(recon.double())[: len(ref)] ** 2 / n
    if torch.allclose(got, raw, rtol=1e-3):
        raise Wrong(
            "outputs not centred",
            "Your variances come from the outputs without centring: subtract their mean first.",
            "Các phương sai của bạn tính từ đầu ra chưa trừ trung bình: hãy trừ trung bình trước.",
        )
    expect.close(got, ref, "The variances", rtol=1e-3, atol=1e-6)


@check("predict_turn_cost", POINTS)
def check_prediction_turn_cost(predicted_extra_error) -> tuple[str, str]:
    """Extra squared error per point when v2 of a k = 2 PCA turns 30 degrees towards v3,
    with lambda_2 = 4 and lambda_3 = 1: (lambda_2 - lambda_3) sin^2(30 deg) = 0.75."""
    return predict.number(
        predicted_extra_error,
        0.75,
        {
            1.5: (
                "sine not squared",
                "Square the sine: the error rises by (lambda_2 - lambda_3) sin^2(theta).",
                "Hãy bình phương sin: sai số tăng thêm (lambda_2 - lambda_3) sin^2(theta).",
            ),
            2.25: (
                "cosine instead of sine",
                "The variance moved is the part along v3, sin^2(theta), not cos^2(theta).",
                "Phần phương sai bị chuyển là phần theo v3, sin^2(theta), không phải cos^2(theta).",
            ),
            1.0: (
                "gap forgotten",
                "The turned direction also picks up variance from v3: the loss is "
                "(lambda_2 - lambda_3) sin^2(theta), not lambda_2 sin^2(theta).",
                "Hướng bị quay cũng nhặt thêm phương sai từ v3: mức tăng là "
                "(lambda_2 - lambda_3) sin^2(theta), không phải lambda_2 sin^2(theta).",
            ),
            3.0: (
                "full swap",
                "3 is the cost of a full 90-degree swap; a 30-degree turn costs sin^2(30°) of it.",
                "3 là cái giá của một lần đổi chỗ trọn 90 độ; quay 30 độ chỉ tốn "
                "sin^2(30°) lần số đó.",
            ),
        },
        tol=0.01,
    )
