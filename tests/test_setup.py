"""course_utils.setup: fast mode, seeding, device choice."""

import random

import numpy as np
import pytest
import torch

from course_utils.setup import is_fast_mode, pick_device, seed_everything, setup_course


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
    assert "device: cpu" in out and "FAST" in out and "seed: 3" in out and out.count("\n") == 1
    assert course.fast and course.pick(10, 1) == 1 and course.mode == "fast"
    monkeypatch.setenv("COURSE_FAST", "0")
    assert setup_course(verbose=False).pick(10, 1) == 10


def test_pick_device_prefers_what_is_asked():
    device, why = pick_device("cpu")
    assert device == torch.device("cpu") and "asked for" in why
    assert pick_device()[0].type in {"cpu", "cuda", "mps"}
