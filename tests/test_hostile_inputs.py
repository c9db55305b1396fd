"""What careless students and busy instructors really hand the course, and the MESSAGE each gets.

Every message has the three parts of ``course_utils.inputs``: what was expected, what was
received, what to do. Each case asserts the content of all three (a raw torch error fifteen
frames deep, or a silent 1.7e7 loss, is a failure), and that nothing is lost or half-written
(the History after Ctrl-C, the old cache after a full disk, no partial export file).

The models are not listed by hand: every public ``nn.Module`` class of ``course_utils`` is
collected by walking the package, and a class without an entry in ``MODELS`` (or ``NOT_MODELS``,
with the reason) fails ``test_every_model_class_of_the_package_is_in_the_suite``. Each model then
gets a NumPy batch, NumPy codes, a float64 batch, a float64 copy of itself with float64 and
float32 inputs, colour images and codes of the wrong size. (Mutants seen failing: a new class
without an entry; ``VAE.decode`` without its ``check_codes``; the NumPy message without its
"what to do"; ``SkipDenoisingAutoencoder`` as it was, checking float32 whatever its dtype and
not checking its codes.)

The grading command's hostile notebooks (an infinite loop, a faked check, a kernel that dies, a
file that is not a notebook, another lesson's notebook) are graded end to end in
tests/test_grade.py; the cheap ones are repeated here so that this file lists every case.
"""

from __future__ import annotations

import errno
import importlib
import os
import pkgutil
import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from helpers import ROOT, make_idx_folder, write_idx
from torch import nn

import course_utils
from course_utils import data_sources, losses
from course_utils.cvae import ConditionalVAE
from course_utils.inputs import InputError
from course_utils.models import LinearAutoencoder
from course_utils.quiz import QuizAnswerError, QuizBankError, check_answers, grade, load_bank
from course_utils.train import Callback, NonFiniteLossError, fit, predict
from course_utils.vae import VAE, VAEObjective, vae_loss

torch.manual_seed(0)
X = torch.rand(6, 1, 28, 28)
LESSON = "06_variational_autoencoders"


def message(call) -> str:
    """The message of the error ``call()`` raises (it must raise)."""
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is checked by the caller
        call()
    return str(info.value)


def three_parts(text: str, who: str, expected: str, received: str, todo: str) -> None:
    """``text`` names who, says what was expected and what was received, and what to do."""
    for part, what in ((who, "who"), (expected, "expected"), (received, "received"),
                       (todo, "what to do")):  # fmt: skip
        assert part in text, f"the message lacks {what} ({part!r}):\n{text}"


# ------------------------------------------------------------- every model of the package
@dataclass(frozen=True)
class ModelSpec:
    """How this suite builds and feeds one ``nn.Module`` class of ``course_utils``."""

    kwargs: dict  # small constructor arguments (the defaults of some models are big)
    code: tuple[int, ...]  # the shape of ONE code that ``decode`` takes
    size_hint: str  # what the wrong-code message must tell the student to check
    conv: bool = False  # takes (B, 1, 28, 28) only; dense models also take (B, 784)
    labels: bool = False  # forward(x, y) and decode(z, y) also take class labels (B,)


MODELS = {
    "LinearAutoencoder": ModelSpec({"n_latent": 2}, (2,), "n_latent=2"),
    "DenseAutoencoder": ModelSpec({"hidden": (32,), "n_latent": 2}, (2,), "n_latent=2"),
    "TiedAutoencoder": ModelSpec({"hidden": (32,), "n_latent": 2}, (2,), "n_latent=2"),
    "SkipDenoisingAutoencoder": ModelSpec({"hidden": (32,), "n_latent": 8}, (8,), "n_latent=8"),
    "SparseAutoencoder": ModelSpec({"n_code": 16}, (16,), "n_code=16"),
    "TopKSparseAutoencoder": ModelSpec({"n_code": 16, "k": 4}, (16,), "n_code=16"),
    "ConvAutoencoder": ModelSpec({"n_latent": 8, "channels": (4, 8)}, (8,), "n_latent=8",
                                 conv=True),
    "LSTMAutoencoder": ModelSpec({"n_latent": 8, "hidden": 16}, (8,), "n_latent=8", conv=True),
    "VAE": ModelSpec({"hidden": (32,), "n_latent": 2}, (2,), "n_latent=2"),
    "ConvVAE": ModelSpec({"n_latent": 2, "channels": (4, 8)}, (2,), "n_latent=2", conv=True),
    "ConditionalVAE": ModelSpec({"hidden": (32,), "n_latent": 2}, (2,), "n_latent=2",
                                labels=True),
    "GumbelVAE": ModelSpec({"hidden": (32,), "n_vars": 3, "n_categories": 4}, (3, 4),
                           "F.one_hot(indices, 4)"),
    "VQVAE": ModelSpec({"hidden": (32,), "n_slots": 3, "code_dim": 2, "n_codes": 4}, (3, 2),
                       "decode_indices"),
}  # fmt: skip
NOT_MODELS = {  # nn.Module classes of the package that a student never feeds, and why
    "GaussianVAE": "a base class without layers: VAE and ConvVAE are its models",
    "RecordingLinear": "the exercise checks' test double (records what a student's code feeds it)",
    "LogitOffset": "a layer inside ConvAutoencoder(input_mean=...), fed by the model itself",
}
ALL_MODELS = list(MODELS)
CONV_MODELS = [name for name, spec in MODELS.items() if spec.conv]


def package_model_classes() -> dict[str, type]:
    """Every public ``nn.Module`` subclass DEFINED in a module of ``course_utils``, by name.

    Private classes (``_Decoder``: the exercise checks' test doubles) are not handed to
    students. ``__main__`` modules are commands, not imported.
    """
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        with warnings.catch_warnings():  # a deprecated alias module warns on import
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                module = importlib.import_module(info.name)
            except ImportError as moved:  # the old commands' pointers (issue 17) refuse import
                if "has moved" in str(moved):
                    continue
                raise
        for name, obj in vars(module).items():
            if (isinstance(obj, type) and issubclass(obj, nn.Module) and not name.startswith("_")
                    and obj.__module__ == module.__name__):  # fmt: skip
                assert found.get(name, obj) is obj, f"two model classes named {name}"
                found[name] = obj
    return found


CLASSES = package_model_classes()


def test_every_model_class_of_the_package_is_in_the_suite():
    missing = sorted(set(CLASSES) - set(MODELS) - set(NOT_MODELS))
    assert not missing, (
        f"nn.Module classes of course_utils unknown to the hostile-input suite: {missing}. Add "
        "an entry to MODELS in tests/test_hostile_inputs.py (small constructor kwargs, the shape "
        "of one code) or, if students never call the class, to NOT_MODELS with the reason."
    )
    stale = sorted((set(MODELS) | set(NOT_MODELS)) - set(CLASSES))
    assert not stale, f"{stale}: no such nn.Module class in course_utils now: remove the entry."


def _model(name: str, dtype: torch.dtype = torch.float32) -> nn.Module:
    torch.manual_seed(0)
    return CLASSES[name](**MODELS[name].kwargs).to(dtype)


def _labels(name: str, n: int) -> tuple[torch.Tensor, ...]:
    """The extra inputs of forward and decode: class labels for a conditional model."""
    return (torch.zeros(n, dtype=torch.long),) if MODELS[name].labels else ()


def _forward(name: str, model: nn.Module, x) -> object:
    return model(x, *_labels(name, len(x)))


def _decode(name: str, model: nn.Module, z) -> object:
    return model.decode(z, *_labels(name, len(z)))


def course_error(call, who: str) -> str:
    """``call()`` must raise the course's InputError in its form: who expects what, but
    received what. What to do. Returns the message."""
    with pytest.raises(InputError) as info:
        call()
    text = str(info.value)
    assert text.startswith(f"{who} expects "), f"the message does not start with who:\n{text}"
    assert re.search(r", but received .+?\.\s+[A-Z]", text), f"received or what to do:\n{text}"
    return text


def _tensors(out) -> list[torch.Tensor]:
    return [t for t in (out if isinstance(out, tuple) else (out,)) if isinstance(t, torch.Tensor)]


# ------------------------------------------------------------------ images of the wrong kind
@pytest.mark.parametrize("name", ["VAE", "ConvVAE"])
def test_uint8_images_into_a_vae(name):
    text = message(lambda: _model(name)((X * 255).to(torch.uint8)))
    three_parts(text, name, "expects a torch.float32 tensor", "torch.uint8 tensor of shape",
                "x.float() / 255")  # fmt: skip


@pytest.mark.parametrize("name", ALL_MODELS)
def test_numpy_array_into_any_model(name):
    text = course_error(lambda: _forward(name, _model(name), X.numpy()), name)
    three_parts(text, name, "expects a torch tensor", "NumPy array of shape (6, 1, 28, 28)",
                "torch.from_numpy(x).float()")  # fmt: skip


@pytest.mark.parametrize("name", ALL_MODELS)
def test_numpy_codes_into_any_decoder(name):
    z = np.zeros((4, *MODELS[name].code), np.float32)
    text = course_error(lambda: _decode(name, _model(name), z), f"{name}.decode")
    three_parts(text, f"{name}.decode", "expects a torch tensor", "NumPy array of shape (4, ",
                "torch.from_numpy(x).float()")  # fmt: skip


@pytest.mark.parametrize("name", ALL_MODELS)
def test_float64_tensor_into_any_model(name):
    text = course_error(lambda: _forward(name, _model(name), X.double()), name)
    three_parts(text, name, "expects a torch.float32 tensor", "torch.float64 tensor",
                "x.to(torch.float32)")  # fmt: skip


@pytest.mark.parametrize("name", ALL_MODELS)
def test_a_float64_model_runs_on_float64_images_and_codes(name):
    """model.double() is legitimate: inputs of its dtype pass, outputs keep it."""
    model = _model(name, torch.float64)
    outputs = _tensors(_forward(name, model, X.double()))
    assert outputs[0].shape == X.shape  # the reconstruction (or logits), shaped like the input
    assert all(t.dtype == torch.float64 for t in outputs if t.is_floating_point())
    decoded = _tensors(_decode(name, model, torch.rand(4, *MODELS[name].code).double()))
    assert all(t.dtype == torch.float64 for t in decoded)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_float32_inputs_into_a_float64_model_name_the_models_dtype(name):
    model = _model(name, torch.float64)
    text = course_error(lambda: _forward(name, model, X), name)
    three_parts(text, name, "expects a torch.float64 tensor", "torch.float32 tensor",
                "x.to(torch.float64)")  # fmt: skip
    text = course_error(lambda: _decode(name, model, torch.rand(4, *MODELS[name].code)),
                        f"{name}.decode")  # fmt: skip
    three_parts(text, f"{name}.decode", "expects a torch.float64 tensor", "torch.float32 tensor",
                "x.to(torch.float64)")  # fmt: skip


@pytest.mark.parametrize("name", CONV_MODELS)
def test_missing_channel_into_conv_models_hints_unsqueeze_1(name):
    text = message(lambda: _model(name)(X[:, 0]))
    three_parts(text, name, "(B, 1, 28, 28)", "shape (6, 28, 28)", "x.unsqueeze(1)")
    assert "unsqueeze(0)" not in text


@pytest.mark.parametrize("name", CONV_MODELS)
def test_flattened_images_into_conv_models(name):
    text = message(lambda: _model(name)(X.view(6, 784)))
    three_parts(text, name, "(B, 1, 28, 28)", "shape (6, 784)", "x.view(-1, 1, 28, 28)")


@pytest.mark.parametrize("name", ALL_MODELS)
def test_colour_images_into_any_model_say_the_course_is_grey(name):
    text = course_error(lambda: _forward(name, _model(name), X.repeat(1, 3, 1, 1)), name)
    three_parts(text, name, "expects a batch of images", "shape (6, 3, 28, 28)",
                "grey images with ONE channel")  # fmt: skip
    assert "x.mean(dim=1, keepdim=True)" in text


@pytest.mark.parametrize("name", [n for n in ALL_MODELS if n not in CONV_MODELS])
def test_dense_models_take_a_batch_without_channel(name):
    """(B, 28, 28) has 784 values per image: dense models flatten it, no error is right."""
    assert _tensors(_forward(name, _model(name), X[:, 0]))[0].shape == (6, 28, 28)


# --------------------------------------------------------------- 0-255 and uint8 into losses
LOSSES_0_255 = {
    "sse_per_image": lambda x: losses.sse_per_image(x, x),
    "mean_sse_per_image": lambda x: losses.mean_sse_per_image(x, x),
    "mse_per_pixel": lambda x: losses.mse_per_pixel(x, x),
    "gaussian_nll_per_image": lambda x: losses.gaussian_nll_per_image(x, x, 0.1),
    "mean_gaussian_nll_per_image": lambda x: losses.mean_gaussian_nll_per_image(x, x, 0.1),
    'vae_loss(likelihood="gaussian")': lambda x: vae_loss(
        torch.zeros_like(x), x, torch.zeros(6, 2), torch.zeros(6, 2), likelihood="gaussian"),
    "bce_per_image": lambda x: losses.bce_per_image(torch.zeros_like(x), x),
    "mean_bce_per_image": lambda x: losses.mean_bce_per_image(torch.zeros_like(x), x),
    'vae_loss(likelihood="bernoulli")': lambda x: vae_loss(
        torch.zeros_like(x), x, torch.zeros(6, 2), torch.zeros(6, 2)),
}  # fmt: skip


@pytest.mark.parametrize("loss", list(LOSSES_0_255))
def test_float_images_in_0_255_into_every_loss_are_refused_not_silent(loss):
    text = message(lambda: LOSSES_0_255[loss](X * 255))
    who = loss.split("(")[0].replace("mean_", "").replace("vae_loss", "")
    three_parts(text, who, "in [0, 1]", "received values", "divide by 255")
    assert "255" in text.split("received")[1]


@pytest.mark.parametrize("loss", ["bce_per_image", "mean_bce_per_image"])
def test_uint8_binary_targets_into_bce(loss):
    targets = (X > 0.5).to(torch.uint8)
    text = message(lambda: getattr(losses, loss)(torch.zeros(6, 1, 28, 28), targets))
    three_parts(text, "bce_per_image", "float targets in [0, 1]", "torch.uint8 tensor",
                "x.float()")  # fmt: skip


def test_reconstruction_of_another_shape_into_a_loss():
    text = message(lambda: losses.sse_per_image(torch.zeros(6, 784), X))
    three_parts(text, "sse_per_image", "x_hat and x of the same shape", "(6, 784)",
                "x_hat.view_as(x)")  # fmt: skip


# ------------------------------------------------------------ latent codes of the wrong size
@pytest.mark.parametrize("name", ALL_MODELS)
def test_wrong_code_size_into_every_decoder(name):
    spec = MODELS[name]
    wrong = (*spec.code[:-1], spec.code[-1] + 5)
    text = course_error(lambda: _decode(name, _model(name), torch.zeros(4, *wrong)),
                        f"{name}.decode")  # fmt: skip
    expected = "(B, " + ", ".join(map(str, spec.code)) + ")"
    received = "shape (4, " + ", ".join(map(str, wrong)) + ")"
    three_parts(text, f"{name}.decode", f"codes of shape {expected}", received, spec.size_hint)
    assert "mat1 and mat2" not in text


def test_a_single_code_without_batch_dimension():
    text = message(lambda: VAE(784, (32,), 2).decode(torch.zeros(2)))
    three_parts(text, "VAE.decode", "(B, 2)", "shape (2,)", "z.unsqueeze(0)")


def test_labels_out_of_range_into_the_cvae():
    cvae = ConditionalVAE(784, 10, hidden=(32,), n_latent=2)
    text = message(lambda: cvae(X, torch.full((6,), 10)))
    three_parts(text, "ConditionalVAE (the labels y)", "from 0 to 9", "from 10 to 10", "n_classes")
    text = message(lambda: cvae(X, torch.nn.functional.one_hot(torch.zeros(6).long(), 10)))
    three_parts(text, "labels", "shape (B,)", "(6, 10)", "not one-hot vectors")


# --------------------------------------------------------------------------------- training
def test_fit_on_uint8_images():
    data = (X * 255).to(torch.uint8)
    text = message(lambda: fit(LinearAutoencoder(784, 2), data, epochs=1, verbose=False))
    three_parts(text, "fit (the training images)", "torch.float32", "torch.uint8",
                "x.float() / 255")  # fmt: skip


def test_fit_on_float_0_255_images_is_refused_not_trained():
    text = message(lambda: fit(LinearAutoencoder(784, 2), X * 255, epochs=1, verbose=False))
    three_parts(text, "fit (the training images)", "[0, 1]", "up to 255", "divide by 255")


def test_fit_a_vae_without_its_objective():
    text = message(lambda: fit(VAE(784, (32,), 2), X, epochs=1, verbose=False))
    three_parts(text, "ReconstructionObjective", "ONE tensor", "returned a tuple",
                "objective=VAEObjective()")  # fmt: skip
    fit(VAE(784, (32,), 2), X, epochs=1, verbose=False, objective=VAEObjective())  # the fix works


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), 0.0, -1e-3, "1e-3", True])
def test_a_learning_rate_that_is_not_a_positive_number(lr):
    text = course_error(lambda: fit(LinearAutoencoder(784, 2), X, lr=lr, epochs=1, verbose=False),
                        "fit")  # fmt: skip
    three_parts(text, "fit", "lr as a positive, finite number", f"lr={lr!r}", "lr=1e-3")


def test_a_learning_rate_that_makes_the_loss_nan_is_stopped_with_advice():
    torch.manual_seed(0)
    model = LinearAutoencoder(784, 2)  # no ReLU that could die: the outputs blow up to inf
    with pytest.raises(NonFiniteLossError) as info:
        fit(model, X.repeat(20, 1, 1, 1), lr=1e12, epochs=3, batch_size=8, verbose=False)
    text = str(info.value)
    assert re.search(r"The loss became (nan|inf) at epoch \d+, batch \d+ of 15", text), text
    assert "smaller learning rate (now 1e+12)" in text and "grad_clip=1.0" in text


class _CtrlC(Callback):
    """Press Ctrl-C (interrupt the kernel) during the second epoch."""

    def on_batch_start(self, state):
        if state.epoch == 2 and state.step == 4:
            raise KeyboardInterrupt


def test_ctrl_c_during_fit_keeps_the_model_and_the_history(capsys):
    model = LinearAutoencoder(784, 2)
    before = model.encoder.weight.detach().clone()
    history = fit(model, X, epochs=5, batch_size=2, callbacks=[_CtrlC()], verbose=False)
    assert history.interrupted and [row["epoch"] for row in history.rows] == [1]
    assert not torch.equal(model.encoder.weight, before)  # the trained weights are kept
    note = capsys.readouterr().out.strip()
    assert note.count("\n") == 0  # one line
    assert "Training interrupted during epoch 2 (after 4 steps)" in note
    assert "the history holds the 1 finished epochs" in note


# ------------------------------------------------------------------- cells run out of order
def test_evaluation_before_training_runs_on_the_untrained_model():
    """predict on a model that is built but not trained yet is legitimate: it must work."""
    out = predict(LinearAutoencoder(784, 2), X)
    assert out.shape == X.shape


def test_a_figure_cell_before_the_training_cell():
    from course_utils.plots import history_figure

    text = message(lambda: history_figure(None))
    three_parts(text, "history_figure", "History", "None", "Run the training cell")
    from course_utils.vae_views import decode_images

    text = course_error(lambda: decode_images(None, torch.zeros(1, 2)), "decode_images")
    three_parts(text, "decode_images", "torch.nn.Module", "received None",
                "Run the cell that builds")  # fmt: skip


def test_a_quiz_cell_before_the_setup_cell(capsys):
    """The quiz needs no setup: run first (no kernel, no setup_course) it still prints."""
    from course_utils.quiz import show_quiz

    show_quiz(LESSON)
    assert "check_answers(" in capsys.readouterr().out


# --------------------------------------------------------------------------------- datasets
@pytest.fixture
def mnist_env(isolated_data, monkeypatch):
    folder = isolated_data / "mnist"
    make_idx_folder(folder, n_train=None, n_test=20)
    monkeypatch.setenv("COURSE_MNIST_DIR", str(folder))
    return folder


def _load():
    from course_utils.data import load_dataset

    return load_dataset("mnist")


def test_a_missing_labels_file_is_named_not_reported_as_no_files(mnist_env):
    (mnist_env / "t10k-labels-idx1-ubyte.gz").unlink()
    text = message(_load)
    assert "holds no" not in text
    three_parts(text, str(mnist_env), "come as a pair", "has t10k-images-idx3-ubyte.gz but not "
                "t10k-labels-idx1-ubyte(.gz)", "Put the missing file there")  # fmt: skip


def test_a_missing_images_file_is_named(mnist_env):
    (mnist_env / "t10k-images-idx3-ubyte.gz").unlink()
    text = message(_load)
    assert "has t10k-labels-idx1-ubyte.gz but not t10k-images-idx3-ubyte(.gz)" in text


def test_an_empty_dataset_folder(mnist_env):
    for f in mnist_env.iterdir():
        f.unlink()
    text = message(_load)
    three_parts(text, f"COURSE_MNIST_DIR={mnist_env}", "t10k-images-idx3-ubyte(.gz)",
                "holds no", "unset the variable")  # fmt: skip


def test_a_truncated_dataset_file(mnist_env):
    path = mnist_env / "t10k-images-idx3-ubyte"
    write_idx(path, np.zeros((20, 28, 28), np.uint8), gz=False)
    (mnist_env / "t10k-images-idx3-ubyte.gz").unlink()
    path.write_bytes(path.read_bytes()[:1000])
    text = message(_load)
    three_parts(text, str(path), "header promises shape (20, 28, 28)", "holds 1,000 bytes",
                "Delete it and load the dataset again")  # fmt: skip


def test_a_corrupt_gzip_dataset_file(mnist_env):
    path = mnist_env / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    text = message(_load)
    three_parts(text, f"Could not read {path}", "damaged or truncated", str(path),
                "delete it and load the dataset again")  # fmt: skip


def test_a_file_that_is_not_idx(mnist_env):
    path = mnist_env / "t10k-labels-idx1-ubyte.gz"
    import gzip

    path.write_bytes(gzip.compress(b"<html>404 Not Found</html>"))
    text = message(_load)
    three_parts(text, str(path), "expected b'\\x00\\x00\\x08'", "starts with b'<htm'",
                "Replace it with the original file")  # fmt: skip


def test_a_data_folder_that_is_not_a_folder(isolated_data, monkeypatch):
    monkeypatch.setenv("COURSE_MNIST_DIR", str(isolated_data / "nowhere"))
    text = message(_load)
    three_parts(text, "COURSE_MNIST_DIR=", "is not a folder", "nowhere", "Fix or unset")


def _online(monkeypatch, fake_class):
    """Pretend to be online, with ``fake_class`` standing for torchvision's MNIST."""
    import torchvision.datasets as tvd

    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.setattr(data_sources.socket, "create_connection", lambda *a, **k: _Closable())
    monkeypatch.setattr(tvd, "MNIST", fake_class)


class _Closable:
    def close(self):
        pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_cache_folder_that_is_not_writable(isolated_data, monkeypatch):
    cache = isolated_data / "cache"
    cache.mkdir()
    cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        _online(monkeypatch, lambda *a, **k: None)
        reason = data_sources._download(data_sources.DATASETS["mnist"])
    finally:
        cache.chmod(stat.S_IRWXU)
    assert "is not writable" in reason and "set COURSE_DATA_DIR" in reason


def test_a_cache_path_that_cannot_be_a_folder(isolated_data, monkeypatch):
    """Not writable, as root sees it too: the cache path is a FILE."""
    blocker = isolated_data / "cache"
    blocker.write_text("a file where the cache folder should be")
    _online(monkeypatch, lambda *a, **k: None)
    reason = data_sources._download(data_sources.DATASETS["mnist"])
    three_parts(reason, f"the cache folder {blocker}", "not writable", "NotADirectoryError",
                "set COURSE_DATA_DIR to a folder you can write to")  # fmt: skip
    data = _load()  # and the lesson still runs, on the embedded fallback
    assert data.train.x.shape[1:] == (1, 28, 28)


def test_a_full_disk_while_writing_the_cache_keeps_the_old_files(isolated_data, monkeypatch):
    raw = isolated_data / "cache" / "MNIST" / "raw"
    make_idx_folder(raw, n_train=None, n_test=20)  # the old cache: a good test split
    old = {p.name: p.read_bytes() for p in raw.iterdir()}

    class DiskFullMidway:  # torchvision's MNIST writing its files, until the disk is full
        def __init__(self, root, train, download):
            folder = Path(root) / "MNIST" / "raw"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "t10k-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03" + b"\0" * 100)
            raise OSError(errno.ENOSPC, "No space left on device")

    _online(monkeypatch, DiskFullMidway)
    reason = data_sources._download(data_sources.DATASETS["mnist"])
    assert "download failed (OSError: [Errno 28] No space left on device)" in reason
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == old  # nothing half-written
    assert not [p for p in (isolated_data / "cache").iterdir() if p.name.startswith(".")]
    data = _load()  # the old cache entry is still usable
    assert "the course cache" in data.source


# ------------------------------------------------------------------------------------ quizzes
def test_check_answers_given_a_list():
    text = message(lambda: check_answers(LESSON, ["a", "b"]))
    three_parts(text, "check_answers", "a dict {question id: letters}", "a list ['a', 'b']",
                "Write each question's id")  # fmt: skip


def test_grade_given_a_list():
    text = message(lambda: grade(load_bank(LESSON), [0, 1]))
    three_parts(text, "grade", "a dict {question id: option index}", "a list [0, 1]",
                "{'q1': 2}")  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "says"),
    [("zz", "use letters from abc"), ("", "use letters from abc"), (3, "no option [3]"),
     ("ab", "takes ONE option"), ([1.5], "is not an index"), ("aa", "repeats an option")],
)  # fmt: skip
def test_nonsense_quiz_answers(answer, says):
    three = [q for q in load_bank(LESSON).questions if q.type == "single" and len(q.options) == 3]
    assert three, f"bank {LESSON} needs a single-answer question with 3 options for this test"
    qid = three[0].id  # the messages below name the letters abc and the index 3
    with pytest.raises(QuizAnswerError) as info:
        check_answers(LESSON, {qid: answer})
    assert f"question '{qid}'" in str(info.value) and says in str(info.value)


def test_an_unknown_question_id_lists_the_ids():
    text = message(lambda: check_answers(LESSON, {"q99": "a"}))
    assert "no question ['q99']" in text and load_bank(LESSON).questions[0].id in text


def test_a_malformed_quiz_bank_lists_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lesson: x\ntitle: {en: a}\nversion: 1\nquestions:\n  - id: q1\n    type: one\n")
    with pytest.raises(QuizBankError) as info:
        load_bank(bad)
    text = str(info.value)
    assert f"quiz bank {bad} has" in text and len(info.value.problems) >= 3
    assert "no Vietnamese translation ('vi')" in text and "question 'q1'" in text


def test_a_quiz_bank_with_a_yaml_syntax_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lesson: x\nquestions: [\n")
    assert "YAML syntax error at line 3" in message(lambda: load_bank(bad))


def test_a_quiz_bank_that_does_not_exist():
    text = message(lambda: load_bank("99_nope"))
    assert "No quiz bank for lesson '99_nope'" in text and "06_variational_autoencoders" in text


@pytest.mark.parametrize("where", ["missing-folder/result.json", "."])
def test_an_export_to_an_unwritable_path_writes_nothing(tmp_path, where):
    result = grade(load_bank(LESSON), {})
    target = tmp_path / where
    with pytest.raises(OSError) as info:
        result.save(target)
    three_parts(str(info.value), "QuizResult.save", "a folder you can write to", str(target),
                "Nothing was saved there")  # fmt: skip
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no half-written file


def test_an_export_keeps_the_old_file_when_the_disk_fills(tmp_path, monkeypatch):
    path = tmp_path / "result.json"
    path.write_text("old result\n")
    result = grade(load_bank(LESSON), {})
    real = Path.write_text

    def full(self, text, *args, **kwargs):
        real(self, text[:10], *args, **kwargs)  # part of it got to the disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError, match="No space left on device"):
        result.save(path)
    monkeypatch.undo()
    assert path.read_text() == "old result\n" and sorted(tmp_path.iterdir()) == [path]


# --------------------------------------------------------------------- the grading command
def _exercises():
    from course_admin import grade as grading

    return grading, grading.load_exercises(ROOT / "exercises")


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [("essay.ipynb", "Dear teacher, here is my answer", "could not read the notebook"),
     ("empty.ipynb", "", "empty notebook (the file is empty)"),
     ("blank.ipynb", nbformat.writes(nbformat.v4.new_notebook(
         cells=[nbformat.v4.new_code_cell("")])), "empty notebook (no cell has any content)"),
     ("plain.ipynb", nbformat.writes(nbformat.v4.new_notebook(
         cells=[nbformat.v4.new_code_cell("1 + 1")])), "not an exercise notebook")],
)  # fmt: skip
def test_grading_something_that_is_not_an_exercise_notebook(tmp_path, name, content, problem):
    grading, exercises = _exercises()
    (tmp_path / name).write_text(content)
    row, merged = grading.prepare("sam", tmp_path / name, None, exercises, None)
    assert merged is None and row.problem.startswith(problem)


def test_grading_a_notebook_with_a_deleted_cell(tmp_path):
    grading, exercises = _exercises()
    nb = nbformat.read(ROOT / "solutions" / f"{LESSON}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.get("id") != "gaussian_kl"]
    nbformat.write(nb, tmp_path / "tom.ipynb")
    row, merged = grading.prepare("tom", tmp_path / "tom.ipynb", None, exercises, None)
    assert row.notes == ["task gaussian_kl: answer cell missing"] and merged is not None


def test_grading_a_notebook_with_a_syntax_error(tmp_path):
    grading, _ = _exercises()
    nb = nbformat.read(ROOT / "solutions" / f"{LESSON}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == "gaussian_kl")
    cell.source = "# Task gaussian_kl\ndef gaussian_kl(mu, logvar)\n    return mu"
    (tmp_path / "class").mkdir()
    nbformat.write(nb, tmp_path / "class" / "syd.ipynb")
    out = tmp_path / "grades.csv"
    assert grading.main([str(tmp_path / "class"), "--out", str(out)]) == 0
    row = out.read_text().splitlines()[1]
    assert row.startswith("syd,") and "gaussian_kl" in row and "SyntaxError" in row, row


# ------------------------------------------------- careless students, round 2 (issue 22)
# Each case: (call, who, expected, received, what to do). ``course_error`` also checks the form
# "<who> expects ..., but received ... . <What to do>" and that the error is the course's
# InputError, never a raw torch or Python error. Mutants seen failing: check_dataset without its
# per-image-list branch (fit trained on the first image), fit without check_size(epochs),
# check_sizes left out of VAE (n_latent=0 trained with a KL of 0), _label_fix's float branch
# advising against one-hot vectors again, check_vae left out of latent_view.
def _split(x, y):
    from course_utils.data_sources import Split

    return Split(x, y)


def _image_data():
    from course_utils.data import ImageData

    y = torch.arange(6) % 10
    return ImageData("fake", "fake", tuple("0123456789"), _split(X, y), _split(X, y),
                     _split(X, y))  # fmt: skip


def _lin():
    torch.manual_seed(0)
    return LinearAutoencoder(784, 2)


def _vae(n_latent=2):
    torch.manual_seed(0)
    return VAE(784, (16,), n_latent)


def _cvae():
    torch.manual_seed(0)
    return ConditionalVAE(784, 10, hidden=(16,), n_latent=2)


def _fit(*args, **kwargs):
    return lambda: fit(*args, **{"epochs": 1, "verbose": False, **kwargs})


def _nan_pixel():
    x = X.clone()
    x[3, 0, 5, 5] = float("nan")
    return x


def _views():
    from course_utils import vae_views

    return vae_views


def _setup(**kwargs):
    from course_utils.course import setup_course

    return lambda: setup_course(verbose=False, **kwargs)


FIT = "fit (the training images)"
VALID = "fit (the validation set)"
NO_GPU = {"device": "cuda"}
ROUND_2 = {
    # silent wrong results
    "a list of image tensors": (
        _fit(_lin(), [X[i] for i in range(6)]), FIT, "a tensor of images",
        "a list of 6 tensors of shape (1, 28, 28)", "torch.stack(list) -> (6, 1, 28, 28)"),
    "an empty dataset": (
        _fit(_lin(), torch.empty(0, 1, 28, 28)), FIT, "at least one image",
        "shape (0, 1, 28, 28)", "Check the cell that selects the data"),
    "epochs=0": (_fit(_lin(), X, epochs=0), "fit", "epochs as a whole number >= 1",
                 "epochs=0", "e.g. epochs=10"),
    "VAE(n_latent=0)": (lambda: VAE(784, (16,), 0), "VAE", "n_latent as a whole number >= 1",
                        "n_latent=0", "e.g. n_latent=2"),
    "DenseAutoencoder(784, (32,), -2)": (
        lambda: course_utils.models.DenseAutoencoder(784, (32,), -2), "DenseAutoencoder",
        "n_latent as a whole number >= 1", "n_latent=-2", "e.g. n_latent=2"),
    "LinearAutoencoder(784, 2.5)": (
        lambda: LinearAutoencoder(784, 2.5), "LinearAutoencoder", "whole number >= 1",
        "n_latent=2.5", "use n_latent=2 or n_latent=3"),
    "LinearAutoencoder(784, True)": (
        lambda: LinearAutoencoder(784, True), "LinearAutoencoder", "whole number >= 1",
        "n_latent=True", "True and False are not numbers here"),
    # raw Python or torch errors
    "setup_course(device='gpu')": (
        _setup(device="gpu"), "setup_course", 'device "cpu", "cuda", "cuda:N", "mps"',
        "device='gpu'", 'For a GPU write "cuda"'),
    "setup_course(device='GPU')": (
        _setup(device="GPU"), "setup_course", 'device "cpu", "cuda"', "device='GPU'",
        "This machine has: cpu"),
    "setup_course(seed='42')": (_setup(seed="42"), "setup_course", "seed as a whole number from 0",
                                "seed='42'", "without quotes: seed=42"),
    "setup_course(seed=2.5)": (_setup(seed=2.5), "setup_course", "seed as a whole number",
                               "seed=2.5", "use seed=2 or seed=3"),
    "setup_course(seed=-1)": (_setup(seed=-1), "setup_course", "from 0 to 4294967295",
                              "seed=-1", "e.g. seed=0"),
    "fit(batch_size=0)": (_fit(_lin(), X, batch_size=0), "fit", "batch_size as a whole number",
                          "batch_size=0", "e.g. batch_size=128"),
    "fit(epochs=2.5)": (_fit(_lin(), X, epochs=2.5), "fit", "epochs as a whole number",
                        "epochs=2.5", "use epochs=2 or epochs=3"),
    "fit(epochs=True)": (_fit(_lin(), X, epochs=True), "fit", "epochs as a whole number",
                         "epochs=True", "True and False are not numbers here"),
    "fit(model, data)": (_fit(_lin(), _image_data()), FIT, "a tensor of images",
                         "a whole ImageData", "Pass one split: data.train"),
    "predict(model, data.test)": (
        lambda: predict(_lin(), _image_data().test), "predict", "a tensor of images",
        "a data split (x of shape (6, 1, 28, 28)", "Pass its images: data.test.x"),
    "latent_view on a plain autoencoder": (
        lambda: _views().latent_view(_lin(), X[0]), "latent_view", "a VAE whose codes follow",
        "a LinearAutoencoder, a plain autoencoder", "Pass a VAE (lesson 06)"),
    "latent_view given a batch": (
        lambda: _views().latent_view(_vae(), X[:5]), "latent_view", "image as ONE image",
        "shape (5, 1, 28, 28)", "Pick one image of the batch, e.g. x[0]"),
    "interpolate(steps=0)": (
        lambda: _views().interpolate(_vae(), X[0], X[1], steps=0), "interpolate",
        "steps as a whole number >= 2", "steps=0", "e.g. steps=10"),
    # acceptable messages made good
    "int64 pixels 0-255": (_fit(_lin(), (X * 255).long()), FIT, "a torch.float32 tensor",
                           "torch.int64 tensor", "x.float() / 255"),
    "CVAE labels as strings": (
        lambda: _cvae()(X[:3], ["1", "2", "3"]), "ConditionalVAE (the labels y)",
        "integer class numbers (a LongTensor)", "a list ['1', '2', '3']",
        "torch.tensor([int(s) for s in y])"),
    "CVAE labels as floats": (
        lambda: _cvae()(X[:3], torch.tensor([1.0, 2.0, 3.0])), "ConditionalVAE (the labels y)",
        "a LongTensor", "torch.float32 tensor of shape (3,)", "y.long() makes them a LongTensor"),
    "CVAE labels as a list": (
        lambda: _cvae()(X[:3], [1, 2, 3]), "ConditionalVAE (the labels y)", "a LongTensor",
        "a list [1, 2, 3]", "torch.tensor(y, dtype=torch.long)"),
    "channels last": (_fit(_lin(), X.permute(0, 2, 3, 1)), FIT, "shape (N, 1, 28, 28)",
                      "shape (6, 28, 28, 1)", "x.permute(0, 3, 1, 2)"),
    "a NumPy array": (_fit(_lin(), X.numpy()), FIT, "a tensor of images",
                      "NumPy array of shape (6, 1, 28, 28)", "torch.from_numpy(x).float()"),
    "one NaN pixel": (_fit(_lin(), _nan_pixel()), FIT, "finite values",
                      "1 NaN and 0 infinite value(s), the first in image 3",
                      "Check the inputs before blaming the learning rate"),
    "a flattened validation set": (
        _fit(course_utils.conv.ConvAutoencoder(8, (4, 8)), X, X.view(6, 784)), VALID,
        "shaped like the training images, (N, 1, 28, 28)", "shape (6, 784)",
        "x.view(-1, 1, 28, 28)"),
    "a cropped validation set": (
        _fit(_lin(), X, X[:, :, :14]), VALID, "shaped like the training images",
        "shape (6, 1, 14, 28)", "Prepare both sets the same way"),
}  # fmt: skip
ROUND_2_MORE = {  # 30+ more careless inputs of the same kinds, for the entry points lessons show
    "fit(x, model)": (_fit(X, _lin()), "fit", "a model (a torch.nn.Module)", "a torch.float32",
                      "The model comes first: fit(model, x)"),
    "fit(None, x)": (_fit(None, X), "fit", "a model", "received None",
                     "Run the cell that builds and trains the model first"),
    "fit(LinearAutoencoder, x)": (_fit(LinearAutoencoder, X), "fit", "a model",
                                  "the class LinearAutoencoder itself", "Build one first"),
    "fit(epochs='10')": (_fit(_lin(), X, epochs="10"), "fit", "epochs as a whole number",
                         "epochs='10'", "without quotes: epochs=10"),
    "fit(epochs=-3)": (_fit(_lin(), X, epochs=-3), "fit", "epochs as a whole number >= 1",
                       "epochs=-3", "e.g. epochs=10"),
    "fit(batch_size=2.5)": (_fit(_lin(), X, batch_size=2.5), "fit", "batch_size as a whole",
                            "batch_size=2.5", "use batch_size=2 or batch_size=3"),
    "fit(batch_size=-5)": (_fit(_lin(), X, batch_size=-5), "fit", "batch_size as a whole",
                           "batch_size=-5", "e.g. batch_size=128"),
    "fit(seed='0')": (_fit(_lin(), X, seed="0"), "fit", "seed as a whole number", "seed='0'",
                      "without quotes: seed=0"),
    "fit(objective=VAEObjective)": (
        _fit(_vae(), X, objective=VAEObjective), "fit", "objective(model, batch) -> (loss, logs)",
        "the class VAEObjective itself", "objective=VAEObjective()"),
    "fit(objective=mse_per_pixel)": (
        _fit(_lin(), X, objective=losses.mse_per_pixel), "fit", "objective(model, batch)",
        "the function mse_per_pixel", "objective=ReconstructionObjective(mse_per_pixel)"),
    "an objective returning the loss alone": (
        _fit(_lin(), X, objective=lambda m, b: losses.mean_sse_per_image(m(b[0]), b[0])), "fit",
        "the objective to return (loss, logs)", "torch.float32 tensor of shape ()",
        "Return (loss, {})"),
    "fit(callbacks=one callback)": (
        _fit(_lin(), X, callbacks=Callback()), "fit", "callbacks as a list", "a Callback",
        "callbacks=[callback]"),
    "fit(callbacks=[a class])": (
        _fit(_lin(), X, callbacks=[Callback]), "fit", "callbacks built from their classes",
        "the class Callback itself", "callbacks=[Callback(...)]"),
    "fit(optimizer=torch.optim.Adam)": (
        _fit(_lin(), X, optimizer=torch.optim.Adam), "fit", "an optimizer",
        "the class Adam itself", "torch.optim.Adam(model.parameters(), lr=1e-3)"),
    "fit(optimizer over another model)": (
        _fit(_lin(), X, optimizer=torch.optim.Adam(_lin().parameters())), "fit",
        "an optimizer over this model's parameters", "none of the model's 4",
        "Build it from this model"),
    "fit(grad_clip=-1.0)": (_fit(_lin(), X, grad_clip=-1.0), "fit", "grad_clip as a positive",
                            "grad_clip=-1.0", "grad_clip=1.0"),
    "fit(grad_clip='1')": (_fit(_lin(), X, grad_clip="1"), "fit", "grad_clip as a positive",
                           "grad_clip='1'", "grad_clip=1.0"),
    "fit(model, (x, y[:2]))": (_fit(_lin(), (X, torch.zeros(2))), FIT, "aligned tensors",
                               "lengths [6, 2]", "(x[:n], y[:n])"),
    "fit(cvae, x) without labels": (
        _fit(_cvae(), X, objective=VAEObjective()), "ConditionalVAE", "the class labels y",
        "received none", "fit(model, (x, y), objective=VAEObjective())"),
    "fit(valid=the ImageData)": (_fit(_lin(), X, _image_data()), VALID, "a tensor of images",
                                 "a whole ImageData", "data.valid for validation"),
    "fit(valid=a NumPy array)": (_fit(_lin(), X, X.numpy()), VALID, "a tensor of images",
                                 "NumPy array of shape (6, 1, 28, 28)", "torch.from_numpy"),
    "fit(cvae, (x, y), valid=x only)": (
        _fit(_cvae(), (X, torch.zeros(6).long()), X, objective=VAEObjective()), VALID,
        "the form of the training set (2 aligned tensors)", "received 1, which the objective "
        "cannot use (InputError)", "(x_valid, y_valid)"),
    "fit(model, 'x')": (_fit(_lin(), "x"), FIT, "a tensor of images", "the str 'x'",
                        "Pass a torch tensor"),
    "predict(batch_size=0)": (lambda: predict(_lin(), X, batch_size=0), "predict",
                              "batch_size as a whole number", "batch_size=0", "batch_size=128"),
    "predict(model, [x0, x1])": (
        lambda: predict(_lin(), [X[0], X[1]]), "predict", "a tensor of images",
        "a list of 2 tensors of shape (1, 28, 28)", "torch.stack(list) -> (2, 1, 28, 28)"),
    "predict(model, empty)": (
        lambda: predict(_lin(), torch.empty(0, 1, 28, 28)), "predict", "at least one image",
        "shape (0, 1, 28, 28)", "Check the cell that selects the data"),
    "evaluate(model, data)": (
        lambda: course_utils.train.evaluate(_lin(), _image_data()), "evaluate",
        "a tensor of images", "a whole ImageData", "Pass one split: data.train"),
    "DenseAutoencoder(hidden=128)": (
        lambda: course_utils.models.DenseAutoencoder(784, hidden=128), "DenseAutoencoder",
        "hidden as a tuple of layer widths", "hidden=128", "hidden=(128,): the comma"),
    "DenseAutoencoder(hidden=(128, 0))": (
        lambda: course_utils.models.DenseAutoencoder(784, hidden=(128, 0)), "DenseAutoencoder",
        "layer widths (whole numbers >= 1)", "hidden=(128, 0)", "at least one unit"),
    "VAE(784, 2): the code size as hidden": (
        lambda: VAE(784, 2), "VAE", "hidden as a tuple of layer widths", "hidden=2",
        "name it: n_latent=2"),
    "VAE(hidden=())": (lambda: VAE(784, ()), "VAE", "hidden as a tuple", "hidden=()",
                       "at least one hidden layer"),
    "ConvAutoencoder(channels=(16,))": (
        lambda: course_utils.conv.ConvAutoencoder(8, channels=(16,)), "ConvAutoencoder",
        "channels as a tuple of 2 layer widths", "channels=(16,)", "channels=(16, 32)"),
    "ConvAutoencoder(decoder='transposed')": (
        lambda: course_utils.conv.ConvAutoencoder(8, decoder="transposed"), "ConvAutoencoder",
        'decoder "transpose" or "upsample"', "decoder='transposed'", "Pick one of the two"),
    "SparseAutoencoder(n_code=0)": (
        lambda: course_utils.sparse.SparseAutoencoder(784, 0), "SparseAutoencoder",
        "n_code as a whole number >= 1", "n_code=0", "e.g. n_code=1024"),
    "ConditionalVAE(n_classes=0)": (
        lambda: ConditionalVAE(784, 0), "ConditionalVAE", "n_classes as a whole number",
        "n_classes=0", "e.g. n_classes=10"),
    "GumbelVAE(temperature=0)": (
        lambda: course_utils.gumbel.GumbelVAE(temperature=0.0), "GumbelVAE",
        "temperature as a positive, finite number", "temperature=0.0", "temperature=1.0"),
    "GumbelVAE(n_categories=1)": (
        lambda: course_utils.gumbel.GumbelVAE(n_categories=1), "GumbelVAE",
        "n_categories as a whole number >= 2", "n_categories=1", "e.g. n_categories=10"),
    "encode_means on a plain autoencoder": (
        lambda: _views().encode_means(_lin(), X), "encode_means", "a VAE whose codes follow",
        "a plain autoencoder", "fn=lambda m, xb: m.encode(xb)"),
    "prior_samples on a plain autoencoder": (
        lambda: _views().prior_samples(_lin(), 4), "prior_samples", "prior N(0, I)",
        "a LinearAutoencoder", "Pass a VAE"),
    "prior_samples(n=0)": (lambda: _views().prior_samples(_vae(), 0), "prior_samples",
                           "n as a whole number >= 1", "n=0", "e.g. n=15"),
    "manifold_figure on a plain autoencoder": (
        lambda: _views().manifold_figure(_lin(), 3), "manifold_figure", "a VAE",
        "a plain autoencoder", "Pass a VAE"),
    "manifold_grid(dims=(0, 5)) on a 2-D VAE": (
        lambda: _views().manifold_grid(_vae(), 3, dims=(0, 5)), "manifold_grid",
        "dims among 0 .. 1 (the model has n_latent=2)", "dims=[0, 5]", "z1 is dims=[0]"),
    "interpolate(x_a=a batch)": (
        lambda: _views().interpolate(_vae(), X[:2], X[2:4]), "interpolate", "x_a as ONE image",
        "shape (2, 1, 28, 28)", "e.g. x[0]"),
    "interpolate(steps=2.5)": (
        lambda: _views().interpolate(_vae(), X[0], X[1], steps=2.5), "interpolate",
        "steps as a whole number >= 2", "steps=2.5", "use steps=2 or steps=3"),
    "latent_view(dims=[7]) on a 2-D VAE": (
        lambda: _views().latent_view(_vae(), X[0], dims=[7]), "latent_view", "dims among 0 .. 1",
        "dims=[7]", "Dimensions count from 0"),
    "traversal_figure(z=a batch of codes)": (
        lambda: _views().traversal_figure(_vae(), torch.zeros(5, 2), [0]), "traversal_figure",
        "z as ONE code of 2 numbers", "shape (5, 2)", "Pick one code"),
    "decode_images on a plain autoencoder": (
        lambda: _views().decode_images(_lin(), torch.zeros(3, 2)), "decode_images",
        "a VAE (VAE, ConvVAE, ConditionalVAE, GumbelVAE)", "a plain autoencoder",
        "m.decode(zb)"),
    "CVAE labels as one Python int": (
        lambda: _cvae()(X[:3], 3), "ConditionalVAE (the labels y)", "a LongTensor", "the int 3",
        "torch.full((B,), 3)"),
    "CVAE labels of shape (B, 1)": (
        lambda: _cvae()(X[:3], torch.zeros(3, 1).long()), "ConditionalVAE (the labels y)",
        "shape (B,)", "shape (3, 1)", "y.squeeze(1)"),
    "CVAE labels as a NumPy array": (
        lambda: _cvae()(X[:3], np.zeros(3, np.int64)), "ConditionalVAE (the labels y)",
        "a LongTensor", "NumPy array of shape (3,)", "torch.from_numpy(y).long()"),
    "CVAE decode with fewer labels than codes": (
        lambda: _cvae().decode(torch.zeros(4, 2), torch.zeros(2).long()),
        "ConditionalVAE.decode", "one label per code", "4 codes and 2 labels",
        "torch.full((4,), label)"),
}  # fmt: skip


@pytest.mark.parametrize("case", [*ROUND_2, *ROUND_2_MORE])
def test_careless_inputs_round_2(case):
    call, who, expected, received, todo = {**ROUND_2, **ROUND_2_MORE}[case]
    text = course_error(call, who)
    three_parts(text, who, expected, received, todo)


def test_a_list_of_images_is_refused_before_training_the_first_image_only():
    """The silent result this replaces: 6 single images taken as 6 aligned tensors."""
    model = _lin()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(InputError):
        fit(model, [X[i] for i in range(6)], epochs=1, verbose=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    fit(model, torch.stack([X[i] for i in range(6)]), epochs=1, verbose=False)  # the fix works


def test_a_vae_without_a_code_is_refused_instead_of_training_with_a_kl_of_zero():
    with pytest.raises(InputError, match="n_latent=0"):
        VAE(784, (16,), 0)
    assert VAE(784, (16,), 1).n_latent == 1  # the smallest code is fine


@pytest.mark.parametrize("device", ["cuda", "cuda:3"])
def test_setup_course_with_a_gpu_this_machine_lacks(monkeypatch, device):
    """No GPU here (patched, so the test says the same on a GPU machine): refused at setup."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    text = course_error(_setup(device=device), "setup_course")
    three_parts(text, "setup_course", "that this machine has", f"device='{device}'",
                "This machine has: cpu")  # fmt: skip
    assert "torch finds no CUDA GPU here" in text and "Found no NVIDIA driver" not in text


def test_setup_course_names_the_gpus_a_machine_has(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake T4")
    text = course_error(_setup(device="cuda:3"), "setup_course")
    three_parts(text, "setup_course", "that this machine has", "device='cuda:3'",
                "This machine has: cpu, cuda:0 (Fake T4)")  # fmt: skip
    assert "there is no cuda:3 (1 CUDA GPU(s), from cuda:0)" in text
    from course_utils.course import pick_device

    assert pick_device("cuda:0")[0] == torch.device("cuda:0")  # what it has is accepted
    assert pick_device(" CPU ")[0] == torch.device("cpu")


def test_setup_course_seeds_nothing_before_refusing_a_seed():
    import random

    def draws():
        return random.random(), np.random.rand(), torch.rand(1).item()  # noqa: NPY002

    from course_utils.course import seed_everything

    seed_everything(123)
    expected = draws()
    seed_everything(123)
    with pytest.raises(InputError):
        _setup(seed="42")()  # random.seed("42") would have worked: the check comes first
    assert draws() == expected  # the global generators were left alone


def test_history_last_on_an_empty_history():
    from course_utils.train import History

    text = course_error(lambda: History().last("train_loss"), "History.last")
    three_parts(text, "History.last", "at least one finished epoch", "an empty history",
                "let an epoch finish")  # fmt: skip


def test_an_interrupted_first_epoch_gives_an_empty_history_that_says_so():
    history = fit(_lin(), X, epochs=3, batch_size=2, callbacks=[_CtrlC1()], verbose=False)
    assert history.interrupted and history.rows == []
    course_error(lambda: history.last("train_loss"), "History.last")


class _CtrlC1(Callback):
    def on_batch_start(self, state):
        if state.step == 1:
            raise KeyboardInterrupt


def test_a_huge_epoch_count_prints_about_twenty_lines_and_keeps_every_epoch(capsys):
    history = fit(_lin(), X[:2], epochs=300, batch_size=2, verbose=True)
    out = capsys.readouterr().out
    printed = [int(m) for m in re.findall(r"^epoch +(\d+)/300  train_loss", out, re.M)]
    assert len(history.rows) == 300 and [r["epoch"] for r in history.rows] == list(range(1, 301))
    assert printed[0] == 1 and printed[-1] == 300 and len(printed) <= 21
    assert printed == sorted(set(printed)) and set(printed) <= set(range(1, 301))
    assert "printing every 15th epoch of 300; the history keeps them all" in out
    fit(_lin(), X[:2], epochs=20, batch_size=2, verbose=True)  # up to 20: every epoch
    assert len(re.findall(r"^epoch +\d+/20  ", capsys.readouterr().out, re.M)) == 20


def test_an_interrupted_long_run_prints_its_last_finished_epoch(capsys):
    class StopAt(Callback):
        def on_batch_start(self, state):
            if state.epoch == 38:
                raise KeyboardInterrupt

    fit(_lin(), X[:2], epochs=300, batch_size=2, callbacks=[StopAt()], verbose=True)
    out = capsys.readouterr().out
    assert re.search(r"^epoch +37/300  ", out, re.M) and "interrupted during epoch 38" in out


def test_course_fast_spellings_on_y_and_2(monkeypatch):
    """COURSE_FAST=on and Y are on; 2 warns (as COURSE_LANG does) and keeps full mode."""
    from course_utils import settings

    for raw in ("on", "Y"):
        monkeypatch.setenv("COURSE_FAST", raw)
        assert settings.fast_mode() is True
    monkeypatch.setenv("COURSE_FAST", "2")
    with pytest.warns(UserWarning, match=r"COURSE_FAST='2' is not an on/off value; using the "
                      r"default \(off\)\. Accepted: 1, true, yes, on, y"):  # fmt: skip
        assert settings.fast_mode() is False


def test_manifold_figure_of_a_20_d_vae_says_on_the_figure_that_18_dimensions_are_0():
    fig = _views().manifold_figure(_vae(20), n=3)
    assert fig._suptitle.get_text() == "a 2-D slice of a 20-D code space: z3 ... z20 fixed at 0"
    assert _views().manifold_figure(_vae(2), n=3)._suptitle is None  # nothing hidden in 2-D
    assert "fixed at 0" in _views().manifold_figure.__doc__


def test_cvae_labels_given_as_floats_are_not_told_about_one_hot_vectors():
    text = message(lambda: _cvae()(X[:3], torch.tensor([1.0, 2.0, 3.0])))
    assert "one-hot" not in text
    assert _cvae()(X[:3], torch.tensor([1.0, 2.0, 3.0]).long())[0].shape == (3, 1, 28, 28)


@pytest.mark.parametrize(
    "good",
    [lambda: fit(_lin(), _image_data().train, _image_data().valid, epochs=1, verbose=False),
     lambda: course_utils.train.evaluate(_lin(), _image_data().test),
     lambda: predict(_lin(), _image_data().test.x),
     lambda: fit(_lin(), X[:, 0], X[:, 0], epochs=1, verbose=False),
     lambda: predict(_cvae(), X, torch.zeros(6).long()),
     lambda: _views().traversal_figure(_vae(), torch.zeros(1, 2), [0]),
     lambda: fit(_lin(), _image_data().train, _image_data().valid.x, epochs=1, verbose=False),
     lambda: _views().traversal_figure(_vae(3), torch.zeros(3), torch.tensor([2, 0]))],
    ids=["fit on splits", "evaluate on a split", "predict on split.x", "(N, 28, 28) dense",
         "predict with labels", "traversal from a (1, L) code", "a plain AE: valid x only",
         "dims as a tensor of indices"],
)  # fmt: skip
def test_what_looks_careless_but_is_right_still_works(good):
    good()
