"""The benchmark suite's machinery (not its timings): the recipe loop, the
report, and the ``cnet train`` / ``cnet bench`` commands, on the bundled sample."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from cnet.benchmark.recipe import make_net, train_ch04
from cnet.benchmark.report import headline, to_markdown
from cnet.dataset.mnist import load_mnist


@pytest.fixture
def no_full_mnist(tmp_path, monkeypatch):
    """Make the full MNIST unavailable (empty mirror, empty cache, no download)."""
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    monkeypatch.setenv("CNET_MNIST_MIRROR", str(empty))
    monkeypatch.setenv("CNET_DATA_HOME", str(tmp_path / "cache"))
    return empty


def test_recipe_cnet_follows_reference_on_the_same_batches():
    # The same seed gives the same initial weights and the same batches, so
    # cnet's and the book's NumPy training must stay together: the losses
    # differ only by rounding (float64, summation order), amplified a little
    # by 30 updates, hence 1e-9 relative.
    (x_train, t_train), (x_test, t_test) = load_mnist(one_hot_label=True, sample=True)
    runs = {}
    for impl in ("cnet", "reference"):
        net = make_net(impl, "float64", seed=3)
        runs[impl] = train_ch04(net, x_train, t_train, x_test, t_test, iters_num=30,
                                seed=5)
        runs[impl]["W1"] = net.params["W1"]
    assert runs["cnet"]["train_acc"] == pytest.approx(runs["reference"]["train_acc"], abs=1e-12)
    assert runs["cnet"]["loss_last"] == pytest.approx(runs["reference"]["loss_last"], rel=1e-9)
    np.testing.assert_allclose(runs["cnet"]["W1"], runs["reference"]["W1"], rtol=1e-9, atol=1e-12)


def test_recipe_backprop_reports_the_median_of_alternating_runs(monkeypatch):
    from cnet.benchmark import suite
    calls = []
    times = iter([30.0, 9.0, 20.0, 5.0, 25.0, 7.0])  # reference, cnet, reference, ...

    def fake_run(impl, dtype, grad, iters, threads=None):
        calls.append(impl)
        return {"iters": iters, "seconds": next(times), "test_acc": [0.9],
                "train_acc": [0.9], "peak_rss": 2**20}

    class Ctx:
        quick = False

        @staticmethod
        def impls():
            return [("reference", "reference", "float64"), ("cnet float64", "cnet", "float64")]

        @staticmethod
        def log(msg):
            pass

    monkeypatch.setattr(suite, "RECIPE_ROUNDS", 3)
    monkeypatch.setattr(suite, "_run_recipe", fake_run)
    rows = suite.recipe_backprop(Ctx())
    assert calls == ["reference", "cnet"] * 3  # the implementations take turns
    got = {r["impl"]: r for r in rows}
    assert got["reference"]["seconds"] == 25.0 and got["cnet float64"]["seconds"] == 7.0
    assert got["cnet float64"]["runs_seconds"] == [9.0, 5.0, 7.0]
    assert got["reference"]["repeats"] == 3


def _rows():
    r = lambda w, c, i, s, **k: dict(workload=w, case=c, impl=i, seconds=s, **k)  # noqa: E731
    return [
        r("numgrad_step", "float64", "cnet 1 thread", 0.010),
        r("numgrad_step", "float64", "cnet 2 threads", 0.006),
        r("numgrad_step", "float64", "reference", 20.0),
        r("recipe_backprop", "10000 iterations", "reference", 40.0, peak_rss_mb=800.0,
          test_acc=0.94, train_acc=0.94),
        r("recipe_backprop", "10000 iterations", "cnet float64", 8.0, peak_rss_mb=300.0,
          test_acc=0.94, train_acc=0.94),
        r("recipe_backprop", "10000 iterations", "torch float32", 10.0, peak_rss_mb=900.0,
          test_acc=0.94, train_acc=0.94),
        r("recipe_numerical", "500 iterations", "cnet float64", 6.0, peak_rss_mb=300.0,
          test_acc=0.9, train_acc=0.9),
        r("predict_test", "predict", "reference", 0.1),
        r("predict_test", "predict", "cnet float64", 0.08),
    ]


def test_headline_ratios():
    h = headline(_rows())
    assert h["numgrad_ratio"] == pytest.approx(20.0 / 0.006)
    assert h["thread_ratio"] == pytest.approx(0.010 / 0.006)
    assert h["recipe_ratio_ref"] == pytest.approx(5.0)
    assert h["recipe_ratio_torch"] == pytest.approx(1.25)
    assert h["memory_ratio"] == pytest.approx(800.0 / 300.0)
    assert h["predict_ratio"] == pytest.approx(1.25)
    # 500 iterations in 6 s scale to 10,000 iterations in 120 s.
    assert h["recipe_numerical_s"] == pytest.approx(120.0)


def test_markdown_marks_targets():
    result = {"rows": _rows(), "quick": True, "command": "cnet bench --quick",
              "data": "synthetic", "machine": dict(
                  date="today", cpu="cpu", cpu_count=2, platform="p", cnet="0", compiler="cc",
                  openmp=True, num_threads=2, numpy="2", torch=None)}
    md = to_markdown(result)
    line = lambda key: next(l for l in md.splitlines() if l.startswith("| " + key))  # noqa: E731
    assert line("numerical-gradient step vs reference").endswith("| met |")
    assert "NOT met" in line("ch04 backprop recipe (cnet float64) vs torch float32")
    assert "NOT met" in line("predict over the test set")
    assert "reference / this" in md and "peak RSS 300 MB" in md


def _run_cli(args, env_mirror, tmp_path):
    env = dict(os.environ, CNET_MNIST_MIRROR=str(env_mirror),
               CNET_DATA_HOME=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "cnet"] + args, capture_output=True,
                          text=True, env=env, cwd=str(tmp_path), timeout=600)


def test_cli_train_on_the_sample(no_full_mnist, tmp_path):
    res = _run_cli(["train", "--iters", "60"], no_full_mnist, tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("data: the MNIST sample bundled with cnet")
    acc_lines = [l for l in res.stdout.splitlines() if l.startswith("train acc, test acc | ")]
    assert len(acc_lines) >= 1
    assert "60 iterations in" in res.stdout


def test_cli_train_refuses_bad_arguments(no_full_mnist, tmp_path):
    res = _run_cli(["train", "--iters", "0"], no_full_mnist, tmp_path)
    assert res.returncode == 2 and "must be >= 1" in res.stderr


def test_cli_bench_writes_report(no_full_mnist, tmp_path):
    out = tmp_path / "out"
    res = _run_cli(["bench", "--quick", "--only", "predict_test", "--no-torch", "--out",
                    str(out)], no_full_mnist, tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads((out / "results.json").read_text())
    impls = {r["impl"] for r in data["rows"]}
    assert {"reference", "cnet float64", "cnet float32"} <= impls
    assert all(r["seconds"] > 0 for r in data["rows"])
    assert "sample" in data["data"]
    assert (out / "RESULTS.md").read_text().startswith("# cnet benchmark results")


def test_cli_bench_rejects_unknown_workload(no_full_mnist, tmp_path):
    res = _run_cli(["bench", "--only", "nonsense", "--out", str(tmp_path / "o")],
                   no_full_mnist, tmp_path)
    assert res.returncode == 2 and "unknown workload" in res.stderr


def test_layer_workloads_run_and_report(no_full_mnist, tmp_path):
    """The chapter-5/6 workloads run (quick, on the sample) and give one row
    per implementation and case, each with a positive time."""
    out = tmp_path / "out"
    res = _run_cli(["bench", "--quick", "--only", "extend_trainer,optimizer_update",
                    "--no-torch", "--out", str(out)], no_full_mnist, tmp_path)
    assert res.returncode == 0, res.stderr
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert {(r["workload"], r["impl"]) for r in rows} >= {
        ("extend_trainer", "reference"), ("extend_trainer", "cnet float64"),
        ("optimizer_update", "reference"), ("optimizer_update", "cnet float64")}
    assert {r["case"] for r in rows if r["workload"] == "optimizer_update"} == {
        "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"}
    assert all(r["seconds"] > 0 for r in rows)


def test_alternate_takes_turns_rests_and_divides_by_iterations():
    from cnet.benchmark import timing
    calls = []

    def one():
        calls.append("one")

    inside = []

    def block():
        calls.append("block")
        t = time.perf_counter()
        time.sleep(0.02)
        inside.append(time.perf_counter() - t)
        return 4  # four iterations in one call

    t0 = time.perf_counter()
    got = timing.alternate({"one": one, "block": block}, rounds=3, warmup=1, settle=0.01)
    elapsed = time.perf_counter() - t0
    assert calls == ["one", "block"] * 4  # warm-up round, then three in turn
    assert elapsed >= 6 * 0.01  # a rest before each of the six timed calls
    wall, cpu = got["block"]
    # Per iteration: a quarter of the call, as timed inside it.
    assert 0.9 * min(inside[1:]) / 4 <= wall <= 1.1 * max(inside[1:]) / 4 + 1e-3
    assert 0 <= cpu < wall  # sleeping costs no CPU time
    assert set(got) == {"one", "block"}


def test_headline_reads_the_layer_conv_and_functions_targets():
    rows = [
        {"workload": "functions", "case": "relu float64 x", "impl": "cnet", "seconds": 1.0},
        {"workload": "functions", "case": "relu float64 x", "impl": "torch", "seconds": 3.0},
        {"workload": "functions", "case": "softmax float32 x", "impl": "cnet", "seconds": 2.0},
        {"workload": "functions", "case": "softmax float32 x", "impl": "torch", "seconds": 1.0},
        {"workload": "ch05_recipe", "case": "10,000 iterations", "impl": "reference", "seconds": 10.0},
        {"workload": "ch05_recipe", "case": "10,000 iterations", "impl": "cnet float64", "seconds": 2.0},
        {"workload": "conv_train_step", "case": "deep, batch 100", "impl": "reference", "seconds": 0.7},
        {"workload": "conv_train_step", "case": "deep, batch 100", "impl": "cnet float64", "seconds": 0.07},
        {"workload": "optimizer_update", "case": "SGD", "impl": "reference", "seconds": 2.0},
        {"workload": "optimizer_update", "case": "SGD", "impl": "cnet float64", "seconds": 1.0},
        {"workload": "optimizer_update", "case": "Adam", "impl": "reference", "seconds": 6.0},
        {"workload": "optimizer_update", "case": "Adam", "impl": "cnet float64", "seconds": 1.0},
    ]
    head = headline(rows)
    assert head["functions_min_torch"] == 0.5  # the slowest kernel, not the mean
    assert head["ch05_ratio_ref"] == 5.0 and head["ch05_ratio_torch"] is None
    assert abs(head["deep_ratio_ref"] - 10.0) < 1e-12 and head["simple_ratio_ref"] is None
    assert head["optimizer_min_ref"] == 2.0
    text = to_markdown({"rows": rows, "command": "cnet bench", "quick": True, "data": "x",
                        "machine": {"date": "d", "cpu": "c", "cpu_count": 2, "platform": "p",
                                    "cnet": "0", "compiler": "gcc", "openmp": True,
                                    "num_threads": 2, "numpy": "2", "torch": None}})
    assert "| ch05 recipe vs reference | 5.0x | >= 4x | met |" in text
    assert "| cnet.functions: the slowest kernel's torch / cnet (2 threads) | 0.5x | >= 1x | NOT met |" in text
