"""course_admin.bench: the quick mode's JSON lines (shape only, never the timings), and names."""

import json

import pytest

from course_admin import bench


@pytest.fixture(scope="module")
def quick_lines():
    return bench.run([], quick=True)


def test_quick_mode_prints_one_json_line_per_benchmark(capsys):
    results = bench.run(["linear-pca"], quick=True)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1 and json.loads(lines[0]) == results[0]


def test_every_benchmark_has_the_json_shape(quick_lines):
    assert [r["benchmark"] for r in quick_lines] == list(bench.BENCHMARKS)
    for r in quick_lines:
        missing = [k for k in bench.REQUIRED_KEYS if k not in r]
        assert not missing, f"{r['benchmark']} lacks {missing}"
        assert r["quick"] is True and isinstance(r["goal_met"], bool)
        assert r["data"] and r["threads_ours"] >= 1 and r["threads_reference"] >= 1
        assert set(r["images"]) == {"train", "valid", "test"}
        json.dumps(r)  # every value is JSON


def test_benchmark_specific_figures(quick_lines):
    by_name = {r["benchmark"]: r for r in quick_lines}
    vae = by_name["vae-mlp"]
    assert {"seconds_per_epoch", "test_loss"} <= set(vae["reference"])
    assert {"seconds_to_reference_loss", "test_loss", "reached"} <= set(vae["ours"])
    for name in ("ae-dense", "ae-conv"):
        r = by_name[name]
        assert (
            0 < r["ours"]["test_mse_per_pixel"] < 1 and 0 < r["reference"]["test_mse_per_pixel"] < 1
        )
        assert set(r["ratio"]) == {"mse", "time"}
    dae = by_name["dae"]
    assert (
        len(dae["ours"]["psnr_db"]) == len(dae["reference"]["psnr_db"]) == len(dae["sigmas"]) == 6
    )
    lin = by_name["linear-pca"]
    assert lin["ours"]["pca_fit_seconds"] >= 0 and lin["ratio"]["mse"]


def test_unknown_names_are_rejected_with_the_list_of_choices():
    with pytest.raises(SystemExit, match="Unknown benchmark name.*vae-cnn.*Choose among: vae-mlp"):
        bench.check_names(["vae-cnn"])
    assert bench.check_names([]) == list(bench.BENCHMARKS)


def test_command_line_rejects_unknown_names():
    with pytest.raises(SystemExit, match="Unknown benchmark"):
        bench.main(["nope", "--quick"])


def test_the_benchmarks_use_the_course_adam():
    from course_admin.bench import recipes
    from course_utils import train

    assert recipes.make_adam is train.make_adam and not hasattr(recipes, "fused_adam")
