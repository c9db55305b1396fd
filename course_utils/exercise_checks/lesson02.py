"""Checks for exercise 02 (stacked autoencoders): the tied decoder, the centred stacked AE, dead
units, AUROC by hand and a threshold set on validation errors.

The AUROC reference counts pairs directly (every anomalous score against every normal one), an
independent route from ``course_utils.anomaly``'s ROC curve, which the student may not call.
One idea: the checks of one exercise, task by task in the exercise's order (over 400 lines
because each task gets its own diagnosis of the typical wrong answers: a missing centring or
logit start, dead units counted on the wrong layer or per image, a threshold from the test
errors or with ``>`` for ``>=``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, call, check, forbid, randint
from course_utils.exercise_checks.expect import Mistake

POINTS = {
    "tied_decoder": 2,
    "predict_tied_params": 1,
    "centred_ae": 3,
    "dead_units_count": 2,
    "auroc": 2,
    "false_alarm_threshold": 2,
}


def _linear_weights(half: nn.Module) -> tuple[Tensor, ...]:
    """(weight, bias) of the Linear layers at positions 0 and 2 of a Linear-ReLU-Linear half."""
    return tuple(t.detach() for i in (0, 2) for t in (half[i].weight, half[i].bias))


@check("tied_decoder", POINTS)
def check_tied_decode(tied_decode, g: torch.Generator) -> Values:
    """``tied_decode(h (B, n_out), weight (n_out, n_in), bias (n_in,)) -> (B, n_in)``."""
    # a square weight first: a missing transpose runs but gives W h instead of W^T h
    for n_in, n_out in ((randint(g, 5, 9),) * 2, (randint(g, 10, 20), randint(g, 3, 8))):
        b = randint(g, 2, 6)
        h = torch.randn(b, n_out, generator=g)
        weight = torch.randn(n_out, n_in, generator=g).requires_grad_()
        bias = torch.randn(n_in, generator=g).requires_grad_()
        try:
            out = expect.tensor(call(tied_decode, h, weight, bias), "tied_decode(h)")
        except Wrong as problem:
            if problem.note == "raised RuntimeError" and "mat" in problem.en:
                raise Wrong(
                    "transpose missing",
                    f"{problem.en} The encoder weight is (n_out, n_in) = {(n_out, n_in)}; the "
                    "decoder maps n_out back to n_in, so it needs the TRANSPOSE: "
                    "F.linear(h, weight.T, bias).",
                    f"{problem.vi} Trọng số bộ mã hóa có kích thước (n_out, n_in) = "
                    f"{(n_out, n_in)}; bộ giải mã đưa n_out về n_in nên cần ma trận CHUYỂN VỊ: "
                    "F.linear(h, weight.T, bias).",
                ) from None
            raise
        expect.shape(out, (b, n_in), "tied_decode(h)")
        ref = h @ weight.detach() + bias.detach()
        no_transpose = (
            [
                Mistake(
                    h @ weight.detach().T + bias.detach(),
                    "transpose missing",
                    "You used the encoder weight W itself; the tied decoder uses its "
                    "TRANSPOSE: F.linear(h, weight.T, bias).",
                    "Bạn dùng chính trọng số W của bộ mã hóa; bộ giải mã dùng chung trọng số "
                    "lấy ma trận CHUYỂN VỊ của W: F.linear(h, weight.T, bias).",
                )
            ]
            if n_in == n_out
            else []
        )
        expect.close(
            out,
            ref,
            "tied_decode(h)",
            [
                *no_transpose,
                Mistake(
                    h @ weight.detach(),
                    "bias missing",
                    "The decoder's own bias is missing: add bias.",
                    "Thiếu bias riêng của bộ giải mã: hãy cộng bias.",
                ),
                Mistake(
                    torch.sigmoid(ref),
                    "activation applied",
                    "Return the linear output; the model applies the activation afterwards.",
                    "Hãy trả về đầu ra tuyến tính; mô hình sẽ áp dụng hàm kích hoạt sau.",
                ),
                Mistake(
                    torch.relu(ref),
                    "activation applied",
                    "Return the linear output; the model applies the activation afterwards.",
                    "Hãy trả về đầu ra tuyến tính; mô hình sẽ áp dụng hàm kích hoạt sau.",
                ),
            ],
        )
        expect.backward(out, "tied_decode(h)")
        expect.gradient_reaches(weight, "the encoder weight", "trọng số của bộ mã hóa")
        expect.gradient_reaches(bias, "the decoder bias", "bias của bộ giải mã")
        expect.close(weight.grad, h.T @ torch.ones(b, n_in), "The gradient of the weight")


def _pairwise_auroc(normal: Tensor, anomalous: Tensor, tie: float = 0.5) -> float:
    """P(anomalous score > normal score) + tie * P(equal), over all pairs."""
    diff = anomalous.double()[:, None] - normal.double()[None, :]  # (N1, N0)
    return ((diff > 0).double() + tie * (diff == 0).double()).mean().item()


@check("auroc", POINTS)
def check_auroc(auroc, g: torch.Generator) -> Values:
    """``auroc(normal (N0,), anomalous (N1,)) -> float``, ties counted one half."""
    n0, n1 = randint(g, 25, 40), randint(g, 10, 20)
    cases = [  # integer scores: plenty of ties between the two groups
        (
            torch.randint(0, 8, (n0,), generator=g).float(),
            torch.randint(3, 11, (n1,), generator=g).float(),
        ),
        (torch.rand(n0, generator=g), torch.rand(n1, generator=g) + 0.3),
        (torch.full((n0,), 0.2), torch.full((n1,), 0.2)),  # all tied: 0.5
        (torch.rand(n0, generator=g), torch.rand(n1, generator=g) + 1.0),  # separated: 1.0
    ]
    targets = (
        "course_utils.anomaly:auroc",
        "course_utils.anomaly:roc_curve",
        "sklearn.metrics._ranking:roc_auc_score",
        "sklearn.metrics._ranking:roc_curve",
    )
    for normal, anomalous in cases:
        with forbid(*targets):
            value = call(auroc, normal.clone(), anomalous.clone())
        got = expect.number(value, "auroc(normal, anomalous)")
        ref = _pairwise_auroc(normal, anomalous)
        if abs(got - ref) <= 1e-6:
            continue
        hints = [
            (
                1 - ref,
                "orientation reversed",
                "Your AUROC is 1 minus the right one: an anomaly should score HIGHER than a "
                "normal image (score >= threshold is flagged).",
                "AUROC của bạn bằng 1 trừ giá trị đúng: ảnh bất thường phải có điểm CAO "
                "hơn ảnh bình thường (điểm >= ngưỡng thì bị đánh dấu).",
            ),
            (
                _pairwise_auroc(normal, anomalous, 0.0),
                "ties not counted as one half",
                "Ties count one half: a pair with equal scores is a coin toss. You counted "
                "them as 0.",
                "Các cặp bằng điểm tính một nửa (như tung đồng xu). Bạn tính chúng là 0.",
            ),
            (
                _pairwise_auroc(normal, anomalous, 1.0),
                "ties not counted as one half",
                "Ties count one half: a pair with equal scores is a coin toss. You counted "
                "them as 1.",
                "Các cặp bằng điểm tính một nửa (như tung đồng xu). Bạn tính chúng là 1.",
            ),
        ]
        for wrong, *hint in hints:
            if abs(got - wrong) <= 1e-6:
                raise Wrong(*hint)
        raise Wrong(
            "wrong value",
            f"auroc gives {got:.4f}, expected {ref:.4f} for {n0} normal and {n1} anomalous "
            "scores (the two groups need not have the same size).",
            f"auroc cho {got:.4f}, cần {ref:.4f} với {n0} điểm bình thường và {n1} điểm bất "
            "thường (hai nhóm không nhất thiết cùng kích thước).",
        )


@check("predict_tied_params", POINTS)
def check_prediction_tied_params(predicted_n_params) -> tuple[str, str]:
    """Parameters of TiedAutoencoder(784, hidden=(256, 64), n_latent=16)."""
    encoder = 784 * 256 + 256 + 256 * 64 + 64 + 64 * 16 + 16
    untied = encoder + 16 * 64 + 64 + 64 * 256 + 256 + 256 * 784 + 784
    return predict.number(
        predicted_n_params,
        encoder + 64 + 256 + 784,
        {
            untied: (
                "counted the untied model",
                "That is the UNTIED model's count: a tied weight is "
                "one tensor used twice and counts once.",
                "Đó là số tham số của mô hình KHÔNG dùng chung trọng số: một trọng số "
                "dùng chung là một tensor dùng hai lần, chỉ đếm một lần.",
            ),
            encoder: (
                "decoder biases not counted",
                "The tied decoder still has its own biases (64, 256 and 784 numbers).",
                "Bộ giải mã dùng chung trọng số vẫn có bias riêng (64, 256 và 784 số).",
            ),
        },
    )


# ------------------------------------------------------------------ the centred stacked AE
_WIDTHS = ((784, 128), (128, 32), (32, 128), (128, 784))  # Linear layers, encoder then decoder
_N_PARAMS = sum(n_in * n_out + n_out for n_in, n_out in _WIDTHS)  # 209,968


def _layout(part: object, sizes: tuple[tuple[int, int], ...]) -> tuple[str, str] | None:
    """What is wrong with ``part`` (Linear, ReLU, Linear of these sizes), in English and
    Vietnamese, or None when it is right."""
    if part is None:
        return "is missing", "không tồn tại"
    if not isinstance(part, nn.Sequential):
        kind = type(part).__name__
        return f"is a {kind}, not an nn.Sequential", f"là {kind}, không phải nn.Sequential"
    kinds = [type(m).__name__ for m in part]
    if kinds != ["Linear", "ReLU", "Linear"]:
        return f"holds {kinds}", f"chứa {kinds}"
    got = ((part[0].in_features, part[0].out_features), (part[2].in_features, part[2].out_features))
    if got != sizes:
        return f"has Linear sizes {got}", f"có các lớp Linear kích thước {got}"
    return None


def _start_mean(g: torch.Generator) -> Tensor:
    """A random mean image (1, 28, 28): pixels in [0.02, 0.98], some exactly 0, two exactly 1."""
    mean = 0.02 + 0.96 * torch.rand(784, generator=g)
    mean[torch.randperm(784, generator=g)[:60]] = 0.0  # the frame's pixels: never lit
    mean[torch.randperm(784, generator=g)[:2]] = 1.0
    return mean.view(1, 28, 28)


@check("centred_ae", POINTS)
def check_centred_ae(CentredStackedAE, g: torch.Generator) -> Values:  # noqa: N803 - a class
    """``CentredStackedAE(input_mean)``: 784-128-32-128-784, encoder sees x - mean, output bias
    starts at logit(mean); ``encode`` (B, 784) or (B, 1, 28, 28) -> (B, 32), ``decode`` -> (B, 784)
    through a sigmoid, ``forward`` shaped like its input."""
    from course_utils.models import DenseAutoencoder, TiedAutoencoder

    mean = _start_mean(g)
    given = mean.clone()
    with forbid("course_utils.models:output_bias_for_mean", "course_utils.models:mlp"):
        model = call(CentredStackedAE, given)
    expect.unchanged(mean, given, "input_mean")
    if isinstance(model, DenseAutoencoder | TiedAutoencoder):
        raise Wrong(
            "uses the course's model",
            "CentredStackedAE builds on the course's DenseAutoencoder: write the layers yourself "
            "with nn.Sequential, nn.Linear and nn.ReLU.",
            "CentredStackedAE dựa trên DenseAutoencoder của khóa học: hãy tự viết các lớp bằng "
            "nn.Sequential, nn.Linear và nn.ReLU.",
        )
    for name, sizes in (("encoder", _WIDTHS[:2]), ("decoder", _WIDTHS[2:])):
        problem = _layout(getattr(model, name, None), sizes)
        if problem:
            (a, b), en, vi = sizes, *problem
            raise Wrong(
                f"{name} layout",
                f"self.{name} {en}: write nn.Sequential(nn.Linear{a}, nn.ReLU(), nn.Linear{b}).",
                f"self.{name} {vi}: hãy viết nn.Sequential(nn.Linear{a}, nn.ReLU(), nn.Linear{b}).",
            )
    buffers = dict(model.named_buffers())
    if "input_mean" not in buffers:
        as_parameter = "input_mean" in dict(model.named_parameters())
        en, vi = (
            ("It is an nn.Parameter, so the optimizer would train it: the mean is fixed.",
             "Nó là một nn.Parameter nên bộ tối ưu sẽ huấn luyện nó, trong khi ảnh trung bình "
             "là cố định.")
            if as_parameter
            else ("A plain attribute would stay behind on .to(device) and not be saved.",
                  "Một thuộc tính thường sẽ không đi theo .to(device) và không được lưu.")
        )  # fmt: skip
        raise Wrong(
            "input_mean not a buffer",
            f"self.input_mean is not a buffer. {en} Store it with "
            "self.register_buffer('input_mean', input_mean.flatten()).",
            f"self.input_mean không phải là một buffer. {vi} Hãy lưu nó bằng "
            "self.register_buffer('input_mean', input_mean.flatten()).",
        )
    expect.close(
        buffers["input_mean"],
        mean.flatten(),
        "self.input_mean",
        [
            Mistake(
                mean.flatten().clamp(1e-3, 1 - 1e-3),
                "stored the clamped mean",
                "self.input_mean holds the clamped mean: store the mean itself (the encoder "
                "subtracts it); clamp only inside the logit of the output bias.",
                "self.input_mean chứa ảnh trung bình đã bị cắt (clamp): hãy lưu chính ảnh trung "
                "bình (bộ mã hóa trừ nó đi); chỉ cắt bên trong logit của bias đầu ra.",
            )
        ],
        atol=1e-6,
    )
    n_params = sum(p.numel() for p in model.parameters())
    if n_params != _N_PARAMS:
        raise Wrong(
            "wrong parameter count",
            f"The model has {n_params:,} trainable numbers, expected {_N_PARAMS:,} (four Linear "
            "layers with their biases; the mean image is a buffer, not a parameter).",
            f"Mô hình có {n_params:,} số được huấn luyện, cần {_N_PARAMS:,} (bốn lớp Linear cùng "
            "bias; ảnh trung bình là buffer, không phải tham số).",
        )
    # the output start: sigmoid(last bias) is the mean image (pixels at 0 or 1 clamped)
    bias = model.decoder[2].bias.detach()
    flat = mean.flatten()
    start_mistakes = [
        (torch.zeros(784), "output bias not started", "It is 0 everywhere, so the untrained "
         "output is 0.5 everywhere", "Nó bằng 0 ở mọi nơi, nên đầu ra chưa huấn luyện bằng 0.5 "
         "ở mọi nơi"),
        (flat, "logit missing", "It holds the mean itself; the bias is added BEFORE the sigmoid, "
         "so it must be logit(mean), whose sigmoid is the mean",
         "Nó chứa chính ảnh trung bình; bias được cộng TRƯỚC hàm sigmoid nên phải là logit(mean), "
         "vì sigmoid(logit(mean)) = mean"),
    ]  # fmt: skip
    for value, note, en, vi in start_mistakes:
        if torch.allclose(bias, value, atol=1e-6):
            raise Wrong(
                note,
                f"The decoder's last bias does not start at logit(mean). {en}: "
                "torch.logit(input_mean.flatten(), eps=1e-3).",
                f"Bias cuối của bộ giải mã không bắt đầu tại logit(mean). {vi}: "
                "torch.logit(input_mean.flatten(), eps=1e-3).",
            )
    if not torch.isfinite(bias).all():
        raise Wrong(
            "logit not clamped",
            "The decoder's last bias holds -inf or inf: logit(0) = -inf and logit(1) = +inf, and "
            "some pixels are 0 (or 1) in every image. Clamp first: "
            "torch.logit(input_mean.flatten(), eps=1e-3).",
            "Bias cuối của bộ giải mã chứa -inf hoặc inf: logit(0) = -inf, logit(1) = +inf, và "
            "có những điểm ảnh bằng 0 (hoặc 1) ở mọi ảnh. Hãy cắt (clip) trước: "
            "torch.logit(input_mean.flatten(), eps=1e-3).",
        )
    inner = (flat > 0.01) & (flat < 0.99)  # where any clamping leaves the mean alone
    start = torch.sigmoid(bias)
    off = (start - flat).abs().max().item()
    if not (torch.allclose(start[inner], flat[inner], atol=1e-5)
            and ((start - flat).abs() <= 0.01).all()):  # fmt: skip
        raise Wrong(
            "output bias start wrong",
            "sigmoid(the decoder's last bias) should be the mean image before training (pixels "
            f"at 0 or 1 clamped); it is off by up to {off:.3g}. "
            "Set it with torch.logit(input_mean.flatten(), eps=1e-3).",
            "sigmoid(bias cuối của bộ giải mã) phải bằng ảnh trung bình trước khi huấn luyện "
            f"(điểm ảnh 0 hoặc 1 được cắt về [0.001, 0.999]); nó lệch tối đa {off:.3g}. "
            "Hãy đặt bằng torch.logit(input_mean.flatten(), eps=1e-3).",
        )
    # encode, decode, forward against the model's own weights, computed here by hand
    w1, b1, w2, b2 = _linear_weights(model.encoder)
    w3, b3, w4, b4 = _linear_weights(model.decoder)
    b = randint(g, 2, 6)
    x = torch.rand(b, 1, 28, 28, generator=g)
    flat_x = x.flatten(1)

    def code_of(inputs: Tensor) -> Tensor:
        return torch.relu(inputs @ w1.T + b1) @ w2.T + b2  # (B, 32)

    ref_code = code_of(flat_x - flat)
    for shaped in (x, flat_x):
        code = expect.returns(model.encode, shaped.clone(), what="encode(x)", shape=(b, 32))
        expect.close(
            code,
            ref_code,
            "encode(x)",
            [
                Mistake(code_of(flat_x), "not centred", "encode(x) feeds the encoder the raw "
                        "pixels: subtract the mean image first, self.encoder(x.flatten(1) - "
                        "self.input_mean).", "encode(x) đưa điểm ảnh thô vào bộ mã hóa: hãy trừ "
                        "ảnh trung bình trước, self.encoder(x.flatten(1) - self.input_mean)."),
                Mistake(code_of(flat_x + flat), "mean added", "encode(x) ADDS the mean image: "
                        "centring subtracts it.", "encode(x) CỘNG ảnh trung bình: phải TRỪ nó "
                        "đi (trừ trung bình, centring)."),
                Mistake(torch.relu(ref_code), "ReLU on the code", "encode(x) applies a ReLU to "
                        "the code: the code stays linear (no activation after the last encoder "
                        "layer).", "encode(x) áp dụng ReLU lên mã: mã phải tuyến tính (không có "
                        "hàm kích hoạt sau lớp cuối của bộ mã hóa)."),
            ],
        )  # fmt: skip
    z = torch.randn(b, 32, generator=g)
    hidden = torch.relu(z @ w3.T + b3)
    logits = hidden @ w4.T + b4
    out = expect.returns(model.decode, z.clone(), what="decode(z)", shape=(b, 784))
    expect.close(
        out,
        torch.sigmoid(logits),
        "decode(z)",
        [
            Mistake(logits, "sigmoid missing", "decode(z) returns logits: apply torch.sigmoid "
                    "to the last layer's output, so that pixels land in [0, 1].", "decode(z) "
                    "trả về logit: hãy áp dụng torch.sigmoid lên đầu ra của lớp cuối để điểm ảnh "
                    "nằm trong [0, 1]."),
            Mistake(torch.sigmoid(logits) + flat, "mean added back", "decode(z) adds the mean "
                    "image after the sigmoid: the output bias already starts at logit(mean), "
                    "so nothing is added back.", "decode(z) cộng ảnh trung bình sau sigmoid: "
                    "bias đầu ra đã bắt đầu tại logit(mean), nên không cần cộng lại gì."),
        ],
    )  # fmt: skip
    for shaped in (x, flat_x):
        y = expect.returns(model, shaped.clone(), what="model(x)", shape=tuple(shaped.shape),
                           hint=(" Return a reconstruction shaped like the input: "
                                 ".view_as(x).", " Hãy trả về ảnh tái tạo cùng kích thước với "
                                 "đầu vào: .view_as(x)."))  # fmt: skip
        expect.close(
            y.reshape(b, 784),
            torch.sigmoid(torch.relu(ref_code @ w3.T + b3) @ w4.T + b4),
            "model(x)",
        )
    loss = model(x).sum()
    expect.backward(loss, "model(x)")
    expect.gradient_reaches(model.encoder[0].weight, "the first layer's weight",
                            "trọng số của lớp đầu tiên")  # fmt: skip
    expect.gradient_reaches(model.decoder[2].bias, "the output bias", "bias đầu ra")
    return {"n": f"{_N_PARAMS:,}"}


# ------------------------------------------------------------------------- dead units
class _Planted(nn.Module):
    """The layout of ``CentredStackedAE`` at small sizes, with units planted in known states."""

    def __init__(self, d: int, w1: int, k: int, w2: int, mean: Tensor) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d, w1), nn.ReLU(), nn.Linear(w1, k))
        self.decoder = nn.Sequential(nn.Linear(k, w2), nn.ReLU(), nn.Linear(w2, d))
        self.register_buffer("input_mean", mean)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x.flatten(1) - self.input_mean)

    def decode(self, z: Tensor) -> Tensor:
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x)).view_as(x)


def _planted_model(g: torch.Generator, x: Tensor) -> _Planted:
    """A model whose first hidden layer has, in a shuffled order: live units, units killed by
    their bias, one unit whose input is exactly 0 (relu(0) = 0: dead), one unit live on exactly
    one image, units live on about half the images, and units that are dead on raw pixels but
    live on centred ones."""
    flat = x.flatten(1)  # (N, d), pixels >= 0
    n, d = flat.shape
    mean = flat.mean(dim=0)
    n_live, n_bias_dead, n_half = randint(g, 6, 10), randint(g, 2, 4), randint(g, 1, 4)
    n_raw_dead = randint(g, 3, 5)
    w1 = n_live + n_bias_dead + 2 + n_half + n_raw_dead
    k, w2 = randint(g, 5, 8), randint(g, 10, 16)
    model = _Planted(d, w1, k, w2, mean)
    rows, biases = [], []
    for _ in range(n_live):  # live on every image
        rows.append(torch.randn(d, generator=g) / d**0.5)
        biases.append(5.0)
    for _ in range(n_bias_dead):  # negative on every image
        rows.append(torch.randn(d, generator=g) / d**0.5)
        biases.append(-50.0)
    rows.append(torch.zeros(d))  # input exactly 0 on every image: relu(0) = 0, dead
    biases.append(0.0)
    w = torch.randn(d, generator=g) / d**0.5  # live on exactly one image (centred)
    top2 = ((flat - mean) @ w).topk(2).values
    rows.append(w)
    biases.append(-float(top2.sum()) / 2)
    for _ in range(n_half):  # live on about half the images
        w = torch.randn(d, generator=g) / d**0.5
        rows.append(w)
        biases.append(-float(((flat - mean) @ w).median()) + 1e-4)
    for _ in range(n_raw_dead):  # all weights negative: w.(x - mean) > 0 for darker images,
        w = -torch.rand(d, generator=g) - 0.1  # but w.x + b < 0 for every raw image
        rows.append(w)
        biases.append(0.5 * float((flat @ -w).min()))
    order = torch.randperm(w1, generator=g)
    with torch.no_grad():
        model.encoder[0].weight.copy_(torch.stack(rows)[order])
        model.encoder[0].bias.copy_(torch.tensor(biases)[order])
        model.encoder[2].bias[: k // 2] = -100.0  # some code units negative on every image
        model.decoder[0].bias.copy_(-100.0 * (torch.rand(w2, generator=g) < 0.6))
        model.decoder[0].bias[0] = 100.0  # at least one live decoder unit
        model.decoder[0].bias[1] = -100.0  # and at least one dead one
    return model


def _dead(pre: Tensor) -> int:
    """Units (columns of the (N, width) pre-activations) with relu(pre) == 0 on every row."""
    return int((pre <= 0).all(dim=0).sum())


def _hidden_layers(model: _Planted, x: Tensor) -> dict[str, Tensor]:
    """Pre-activations, by hand: the first layer's (centred and raw), the code, the decoder's."""
    flat = x.flatten(1)
    w, b = model.encoder[0].weight, model.encoder[0].bias
    a = (flat - model.input_mean) @ w.T + b  # (N, w1)
    code = torch.relu(a) @ model.encoder[2].weight.T + model.encoder[2].bias  # (N, k)
    a_dec = code @ model.decoder[0].weight.T + model.decoder[0].bias  # (N, w2)
    return {"first": a, "raw": flat @ w.T + b, "code": code, "decoder": a_dec}


def _counts(model: _Planted, x: Tensor) -> dict[str, int]:
    """The right count ("right") and, by note, what each typical mistake would count."""
    with torch.no_grad():
        a = _hidden_layers(model, x)
    width, ref = a["first"].shape[1], _dead(a["first"])
    return {
        "right": ref,
        "strict inequality": int((a["first"] < 0).all(dim=0).sum()),
        "not centred": _dead(a["raw"]),
        "per image, not over the batch": int((a["first"] <= 0).any(dim=0).sum()),
        "reduced over the units": int((a["first"] <= 0).all(dim=1).sum()),
        "counted live units": width - ref,
        "ReLU output >= 0": width,
        "wrong layer (decoder)": _dead(a["decoder"]),
        "wrong layer (code)": _dead(a["code"]),
        "both layers": ref + _dead(a["decoder"]),
    }


_DEAD_HINTS = {  # note: (English, Vietnamese), in the order of _counts
    "strict inequality": (
        "You counted units whose input is < 0 on every image; a unit whose input is exactly 0 "
        "also outputs relu(0) = 0. Test the ReLU OUTPUT: dead means h == 0 on every image "
        "(equivalently, input <= 0).",
        "Bạn đếm các đơn vị có đầu vào < 0 trên mọi ảnh; đơn vị có đầu vào đúng bằng 0 cũng "
        "cho relu(0) = 0. Hãy xét ĐẦU RA của ReLU: chết nghĩa là h == 0 trên mọi ảnh (tương "
        "đương đầu vào <= 0).",
    ),
    "not centred": (
        "You ran the first layer on the raw pixels, but this model's encoder sees "
        "x - model.input_mean: subtract the mean image first, as the model does.",
        "Bạn chạy lớp đầu trên điểm ảnh thô, nhưng bộ mã hóa của mô hình này nhận "
        "x - model.input_mean: hãy trừ ảnh trung bình trước, như mô hình làm.",
    ),
    "per image, not over the batch": (
        "You counted units that are 0 on AT LEAST ONE image; a dead unit is 0 on EVERY image "
        "of the batch: reduce with .all(dim=0) over the images.",
        "Bạn đếm các đơn vị bằng 0 trên ÍT NHẤT MỘT ảnh; đơn vị chết là đơn vị bằng 0 trên MỌI "
        "ảnh của batch: hãy gộp bằng .all(dim=0) theo các ảnh.",
    ),
    "reduced over the units": (
        "You counted IMAGES on which every unit is 0 (reduced over dim=1); count UNITS that "
        "are 0 on every image: .all(dim=0).",
        "Bạn đếm các ẢNH mà mọi đơn vị đều bằng 0 (gộp theo dim=1); hãy đếm các ĐƠN VỊ bằng 0 "
        "trên mọi ảnh: .all(dim=0).",
    ),
    "counted live units": (
        "You counted the LIVE units (active on some image); the task asks for the dead ones.",
        "Bạn đếm các đơn vị CÒN SỐNG (hoạt động trên ít nhất một ảnh); đề bài hỏi số đơn vị chết.",
    ),
    "ReLU output >= 0": (
        "You counted every unit: a ReLU's output is always >= 0, so test h == 0 (or h <= 0), "
        "not h >= 0.",
        "Bạn đếm mọi đơn vị: đầu ra của ReLU luôn >= 0, nên hãy kiểm tra h == 0 (hoặc h <= 0), "
        "không phải h >= 0.",
    ),
    "wrong layer (decoder)": (
        "You counted the decoder's hidden layer; the task asks for the encoder's FIRST layer, "
        "model.encoder[0], the one that reads the images.",
        "Bạn đếm lớp ẩn của bộ giải mã; đề bài hỏi lớp ĐẦU TIÊN của bộ mã hóa, "
        "model.encoder[0], lớp đọc trực tiếp ảnh.",
    ),
    "wrong layer (code)": (
        "You counted on the code (the encoder's output), which has no ReLU; the task asks for "
        "the encoder's FIRST layer, relu(model.encoder[0](x - mean)).",
        "Bạn đếm trên mã (đầu ra của bộ mã hóa), nơi không có ReLU; đề bài hỏi lớp ĐẦU TIÊN "
        "của bộ mã hóa, relu(model.encoder[0](x - mean)).",
    ),
    "both layers": (
        "You counted both ReLU layers; the task asks for the encoder's first layer only.",
        "Bạn đếm cả hai lớp ReLU; đề bài chỉ hỏi lớp đầu tiên của bộ mã hóa.",
    ),
}


def _distinct_model(g: torch.Generator, x: Tensor) -> tuple[_Planted, dict[str, int]]:
    """A planted model on which the right count and every mistake's count all differ."""
    for _ in range(200):
        model = _planted_model(g, x)
        counts = _counts(model, x)
        if len(set(counts.values())) == len(counts):
            return model, counts
    raise RuntimeError("no planted model told every mistake apart")  # pragma: no cover


@check("dead_units_count", POINTS)
def check_count_dead_units(count_dead_units, g: torch.Generator) -> Values:
    """``count_dead_units(model, x) -> int``: first-layer ReLU units that are 0 on every image
    of ``x``, the encoder seeing ``x - model.input_mean``."""
    for _ in range(2):
        side = randint(g, 4, 6)
        n = randint(g, 40, 80)
        x = torch.rand(n, 1, side, side, generator=g)
        model, counts = _distinct_model(g, x)
        before = x.clone()
        with forbid("course_utils.models:dead_units"):
            got_value = call(count_dead_units, model, x)
        expect.unchanged(before, x, "x")
        got = expect.number(got_value, "count_dead_units(model, x)")
        if got == counts["right"]:
            continue
        for note, (en, vi) in _DEAD_HINTS.items():
            if got == counts[note]:
                raise Wrong(note, en, vi)
        width = model.encoder[0].out_features
        raise Wrong(
            "wrong count",
            f"count_dead_units gives {got:g}, expected {counts['right']} (a model whose first "
            f"layer has {width} units, on {n} images).",
            f"count_dead_units cho {got:g}, cần {counts['right']} (mô hình có lớp đầu gồm "
            f"{width} đơn vị, trên {n} ảnh).",
        )
    return None


# ------------------------------------------------------------------ a threshold on validation
def _order_stats(values: Tensor, q: float) -> tuple[float, float]:
    """The two order statistics that any usual quantile rule puts the q quantile between."""
    ordered = values.double().sort().values
    position = q * (len(ordered) - 1)
    return ordered[int(position)].item(), ordered[min(int(position) + 1, len(ordered) - 1)].item()


def _error_sets(g: torch.Generator, ties: bool, rate: float) -> tuple[Tensor, Tensor]:
    """Validation and test errors of normal images; the test errors run clearly higher, so that
    a threshold taken from them is told apart from one taken from the validation errors."""
    n_valid, n_test = randint(g, 150, 300), randint(g, 120, 260)
    if not ties:
        return torch.rand(n_valid, generator=g) ** 2, 1.6 * torch.rand(n_test, generator=g) ** 2
    valid = torch.randint(0, 40, (n_valid,), generator=g).float() / 8  # exact in binary
    ordered = valid.sort().values
    k = int((1 - rate) * (n_valid - 1))  # the quantile lies between ordered[k] and ordered[k + 1]
    tied = ordered[k].item()
    ordered[k - 1 : k + 3] = tied  # it lands ON a tied value, whatever the rounding of k
    valid = ordered[torch.randperm(n_valid, generator=g)]
    test = torch.randint(8, 56, (n_test,), generator=g).float() / 8
    test[torch.randperm(n_test, generator=g)[: n_test // 8]] = tied  # test errors equal to it
    return valid, test


def _share_flagged(errors: Tensor, threshold: float, strict: bool = False) -> float:
    """The share of ``errors`` (N,) flagged: error >= threshold (> when ``strict``)."""
    e = errors.double()
    return ((e > threshold) if strict else (e >= threshold)).double().mean().item()


@check("false_alarm_threshold", POINTS)
def check_threshold_at_false_alarm(threshold_at_false_alarm, g: torch.Generator) -> Values:
    """``threshold_at_false_alarm(valid_errors (Nv,), test_errors (Nt,), rate=0.05)
    -> (threshold, false-alarm rate on the test errors)``, flagging ``error >= threshold``."""
    for ties, rate in ((False, None), (True, 0.1), (False, 0.2)):
        valid, test = _error_sets(g, ties, 0.05 if rate is None else rate)
        given_valid, given_test = valid.clone(), test.clone()
        args = (given_valid, given_test) if rate is None else (given_valid, given_test, rate)
        out = call(threshold_at_false_alarm, *args)
        expect.unchanged(valid, given_valid, "valid_errors")
        expect.unchanged(test, given_test, "test_errors")
        if not isinstance(out, tuple | list) or len(out) != 2:
            raise Wrong(
                "wrong return value",
                "Return two numbers: (threshold, false-alarm rate on the test errors).",
                "Hãy trả về hai số: (ngưỡng, tỉ lệ báo động nhầm trên sai số của tập kiểm tra).",
            )
        threshold = expect.number(out[0], "the threshold")
        alarm = expect.number(out[1], "the false-alarm rate")
        q = 1 - (0.05 if rate is None else rate)
        low, high = _order_stats(valid, q)
        if not low - 1e-6 <= threshold <= high + 1e-6:
            t_low, t_high = _order_stats(test, q)
            wrong_low, wrong_high = _order_stats(valid, 1 - q)
            fixed_low, fixed_high = _order_stats(valid, 0.95)
            hints = [
                (t_low, t_high, "set on the test errors",
                 "Your threshold is the quantile of the TEST errors: then the test false-alarm "
                 "rate lands on the target by construction and measures nothing. Take the quantile "
                 "of the VALIDATION errors.",
                 "Ngưỡng của bạn là phân vị của sai số trên tập KIỂM TRA: khi đó tỉ lệ báo động "
                 "nhầm trên tập kiểm tra rơi vào mục tiêu theo cách dựng, và không đo được gì. "
                 "Hãy lấy phân vị của sai số trên tập KIỂM ĐỊNH (validation)."),
                (wrong_low, wrong_high, "quantile direction",
                 f"Your threshold is the {1 - q:.2f} quantile: it flags {q:.0%} of normal "
                 f"images. A false-alarm rate of {1 - q:.2f} needs the (1 - rate) = {q:.2f} "
                 "quantile: torch.quantile(valid_errors, 1 - rate).",
                 f"Ngưỡng của bạn là phân vị {1 - q:.2f}: nó đánh dấu {q:.0%} ảnh bình thường. "
                 f"Tỉ lệ báo động nhầm {1 - q:.2f} cần phân vị (1 - rate) = {q:.2f}: "
                 "torch.quantile(valid_errors, 1 - rate)."),
                (fixed_low, fixed_high, "rate ignored",
                 f"Your threshold is the 0.95 quantile although rate = {1 - q:.2f}: use the "
                 "argument, torch.quantile(valid_errors, 1 - rate).",
                 f"Ngưỡng của bạn là phân vị 0.95 dù rate = {1 - q:.2f}: hãy dùng tham số, "
                 "torch.quantile(valid_errors, 1 - rate)."),
            ]  # fmt: skip
            for lo, hi, note, en, vi in hints:
                if lo - 1e-6 <= threshold <= hi + 1e-6:
                    raise Wrong(note, en, vi)
            raise Wrong(
                "wrong threshold",
                f"The threshold is {threshold:.4g}; the {q:.2f} quantile of the {len(valid)} "
                f"validation errors lies between {low:.4g} and {high:.4g}.",
                f"Ngưỡng là {threshold:.4g}; phân vị {q:.2f} của {len(valid)} sai số kiểm định "
                f"nằm giữa {low:.4g} và {high:.4g}.",
            )
        ref = _share_flagged(test, threshold)
        if abs(alarm - ref) <= 1e-6:
            continue
        hints = [
            (_share_flagged(test, threshold, strict=True), "> instead of >=",
             "An image is flagged when its error is >= the threshold; you used >, which "
             "leaves out the test images whose error equals it.",
             "Một ảnh bị đánh dấu khi sai số của nó >= ngưỡng; bạn dùng >, nên bỏ sót các ảnh kiểm "
             "tra có sai số đúng bằng ngưỡng."),
            (_share_flagged(valid, threshold), "measured on validation",
             "You measured the false-alarm rate on the VALIDATION errors, the ones that set the "
             "threshold (there it is near the target by construction); measure it on the TEST "
             "errors.",
             "Bạn đo tỉ lệ báo động nhầm trên sai số KIỂM ĐỊNH, chính các sai số đã đặt ra "
             "ngưỡng (ở đó nó gần mục tiêu theo cách dựng); hãy đo trên sai số của tập KIỂM "
             "TRA."),
            (1 - ref, "share kept, not flagged",
             "You returned the share of test images BELOW the threshold; the false-alarm rate "
             "is the share flagged, error >= threshold.",
             "Bạn trả về tỉ lệ ảnh kiểm tra DƯỚI ngưỡng; tỉ lệ báo động nhầm là tỉ lệ bị đánh "
             "dấu, sai số >= ngưỡng."),
            (ref * len(test), "a count, not a share",
             "You returned the NUMBER of flagged test images; return their share (divide by "
             "the number of test images).",
             "Bạn trả về SỐ ảnh kiểm tra bị đánh dấu; hãy trả về tỉ lệ (chia cho số ảnh kiểm "
             "tra)."),
        ]  # fmt: skip
        for value, note, en, vi in hints:
            if abs(alarm - value) <= 1e-6:
                raise Wrong(note, en, vi)
        raise Wrong(
            "wrong false-alarm rate",
            f"The false-alarm rate is {alarm:.4g}; at your threshold {threshold:.4g}, "
            f"{ref:.4g} of the {len(test)} test errors are >= it.",
            f"Tỉ lệ báo động nhầm là {alarm:.4g}; với ngưỡng {threshold:.4g} của bạn, "
            f"{ref:.4g} trong {len(test)} sai số kiểm tra >= ngưỡng.",
        )
    return None
