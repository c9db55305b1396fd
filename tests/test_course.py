"""course_utils.course: fast mode, seeding, device choice."""

import random

import numpy as np
import pytest
import torch

from course_utils.course import is_fast_mode, pick_device, seed_everything, setup_course


@pytest.mark.parametrize(
    ("value", "fast"),
    [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)],
)
def test_fast_mode_switch(monkeypatch, value, fast):
    monkeypatch.setenv("COURSE_FAST", value)
    assert is_fast_mode() is fast


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        g = seed_everything(7)
        return (
            random.random(),
            np.random.rand(),  # noqa: NPY002 - the legacy global generator is what we seed
            torch.rand(1).item(),
            torch.rand(1, generator=g).item(),
        )  # noqa: NPY002

    assert draw() == draw()


def test_setup_course_reports_its_choices(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    course = setup_course(seed=3)
    out = capsys.readouterr().out
    expected_device = pick_device()[1]  # whatever this machine has: cpu, cuda or mps
    assert f"device: {expected_device}" in out and course.device == pick_device()[0]
    assert "FAST" in out and "seed: 3" in out and out.count("\n") == 1
    assert course.fast and course.pick(10, 1) == 1 and course.mode == "fast"
    monkeypatch.setenv("COURSE_FAST", "0")
    assert setup_course(verbose=False).pick(10, 1) == 10


def test_pick_device_prefers_what_is_asked():
    device, why = pick_device("cpu")
    assert device == torch.device("cpu") and "asked for" in why


def test_pick_device_order_is_cuda_then_mps_then_cpu(monkeypatch):
    mps = torch.backends.mps
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake GPU")
    assert pick_device() == (torch.device("cuda"), "cuda (Fake GPU)")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(mps, "is_available", lambda: True)
    assert pick_device()[0] == torch.device("mps")
    monkeypatch.setattr(mps, "is_available", lambda: False)
    device, why = pick_device()
    assert device == torch.device("cpu") and "no GPU" in why
