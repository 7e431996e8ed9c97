"""The ``cnet`` command: one line and exit status 2 for a user's mistake, the
book's lines, a plot, saved parameters, and Ctrl-C."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import cnet
from cnet import training
from cnet.cli import main

SAMPLE = ["train", "--dataset", "sample"]


@pytest.fixture
def offline(monkeypatch, tmp_path, loopback_only):
    """An empty cache and a mirror folder that does not exist: MNIST cannot be had."""
    monkeypatch.setenv("CNET_DATA_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CNET_MNIST_MIRROR", str(tmp_path / "no-mirror"))
    monkeypatch.setenv("CNET_FASHION_MNIST_MIRROR", str(tmp_path / "no-mirror"))


def run_cli(argv, capsys):
    """(exit status, stdout, stderr) of ``cnet ARGV`` run in this process."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("argv, message", [
    (SAMPLE + ["--seed", "-1"], "argument --seed: must be between 0 and 4294967295, got -1"),
    (SAMPLE + ["--seed", "4294967296"], "argument --seed: must be between 0 and 4294967295"),
    (SAMPLE + ["--seed", "x"], "argument --seed: expected an integer, got 'x'"),
    (SAMPLE + ["--batch-size", "1000000000"],
     "--batch-size must be at most the number of training images (6000), got 1000000000"),
    (SAMPLE + ["--batch-size", "0"], "argument --batch-size: must be >= 1, got 0"),
    (SAMPLE + ["--lr", "nan"], "argument --lr: must be a finite number > 0, got nan"),
    (SAMPLE + ["--lr", "inf"], "argument --lr: must be a finite number > 0, got inf"),
    (SAMPLE + ["--lr=-inf"], "argument --lr: must be a finite number > 0, got -inf"),
    (SAMPLE + ["--lr", "0"], "argument --lr: must be a finite number > 0, got 0"),
    (SAMPLE + ["--lr", "-0.1"], "argument --lr: must be a finite number > 0, got -0.1"),
    (SAMPLE + ["--iters", "0"], "argument --iters: must be >= 1, got 0"),
    (SAMPLE + ["--hidden", "0"], "argument --hidden: must be >= 1, got 0"),
    (SAMPLE + ["--grad", "exact"], "argument --grad: invalid choice: 'exact'"),
    (SAMPLE + ["--net", "ch99"], "argument --net: invalid choice: 'ch99'"),
    (["train", "--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar'"),
    (SAMPLE + ["--plot", "/no/such/folder/acc.png"],
     "argument --plot: the folder /no/such/folder does not exist"),
    (SAMPLE + ["--save", "/no/such/folder/p.npz"],
     "argument --save: the folder /no/such/folder does not exist"),
    (["train", "--dataset", "mnist"], "MNIST is not cached and cannot be downloaded"),
    (["train", "--dataset", "fashion"], "Fashion-MNIST is not cached and cannot be downloaded"),
    (["bench", "--only", "bad"], "--only: unknown workload 'bad'; choose from numgrad_step"),
    (["bench", "--only", ","], "--only: unknown workload (none given)"),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
])
def test_a_users_mistake_is_one_line_and_status_2(argv, message, offline, capsys, tmp_path):
    status, out, err = run_cli(argv + (["--out", str(tmp_path / "b")] if argv[0] == "bench"
                                       else []), capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert lines[0].startswith("cnet")
    assert "Traceback" not in err


def test_missing_plot_extra_is_named(offline, capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    status, out, err = run_cli(SAMPLE + ["--plot", str(tmp_path / "a.png")], capsys)
    assert status == 2
    assert err.strip() == ('cnet train: error: --plot needs matplotlib: '
                           'pip install "cnet-dlfs[plot]"')
    assert out == ""  # refused before any training


def test_offline_without_a_mirror_trains_on_the_sample_and_says_so(offline, capsys):
    status, out, err = run_cli(["train", "--iters", "70"], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("data: the MNIST sample bundled with cnet (6,000 training / "
                               "1,000 test images): the full MNIST is not cached and cannot "
                               "be downloaded (")
    assert "set CNET_MNIST_MIRROR to use it" in lines[0]
    assert "Traceback" not in err and "Traceback" not in out


def test_sample_run_prints_the_books_lines_and_writes_a_png(capsys, tmp_path):
    png = tmp_path / "acc.png"
    status, out, err = run_cli(SAMPLE + ["--iters", "130", "--plot", str(png)], capsys)
    assert status == 0, err
    lines = out.splitlines()
    epochs = [line for line in lines if line.startswith("train acc, test acc | ")]
    assert len(epochs) == 3  # iterations 0, 60 and 120 (6,000 images, batches of 100)
    for line in epochs:
        train_acc, test_acc = (float(v) for v in line.split("|")[1].split(","))
        assert 0 <= train_acc <= 1 and 0 <= test_acc <= 1
    summary = lines[-2]
    assert summary.startswith("train acc ") and "130 iterations in" in summary
    assert "it/s" in summary
    assert lines[-1] == "wrote %s" % png
    assert "\r" not in out + err  # not a terminal: plain lines, no bar
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000


def test_save_then_load_gives_the_trained_network(capsys, tmp_path):
    path = tmp_path / "p.npz"
    status, out, err = run_cli(SAMPLE + ["--iters", "30", "--hidden", "17", "--dtype",
                                         "float32", "--save", str(path)], capsys)
    assert status == 0, err
    # The same run in this process, for the expected parameters.
    (x, t), (xt, tt) = cnet.load_mnist(sample=True, one_hot_label=True)
    want = training.build_network("ch04", hidden=17, dtype="float32", seed=0)
    training.train(want, x, t, xt, tt, iters=30, seed=0)
    got = training.load_params(path)
    assert type(got) is type(want)
    for key in want.params:
        assert got.params[key].dtype == np.float32
        np.testing.assert_array_equal(got.params[key], want.params[key])
    assert got.accuracy(xt, tt) == want.accuracy(xt, tt)
    # Into an existing network: its own arrays are filled (layers holding them see it).
    other = training.build_network("ch04", hidden=17, dtype="float32", seed=5)
    W1 = other.params["W1"]
    assert training.load_params(path, other) is other and other.params["W1"] is W1
    np.testing.assert_array_equal(W1, want.params["W1"])
    with pytest.raises(ValueError, match="W1 is float32 \\(784, 17\\), the network's is "
                                         "float32 \\(784, 50\\)"):
        training.load_params(path, training.build_network("ch04", dtype="float32"))


def test_training_api_refuses_bad_values():
    (x, t), (xt, tt) = cnet.load_mnist(sample=True, one_hot_label=True)
    net = training.build_network("ch04", hidden=5)
    for kwargs, match in [({"lr": float("nan")}, "lr must be a finite number > 0"),
                          ({"batch_size": 10**9}, "batch_size must be at most"),
                          ({"iters": 0}, "iters must be >= 1"),
                          ({"seed": -1}, "seed must be between 0 and 4294967295"),
                          ({"grad": "exact"}, "grad must be one of")]:
        with pytest.raises(ValueError, match=match):
            training.train(net, x, t, xt, tt, **kwargs)
    with pytest.raises(ValueError, match="net must be one of"):
        training.build_network("ch99")


def test_info_names_the_distribution(capsys):
    status, out, err = run_cli(["info"], capsys)
    assert status == 0
    assert out.splitlines()[0] == ("distribution : cnet-dlfs %s (pip install cnet-dlfs; "
                                   "import cnet)" % cnet.__version__)


@pytest.mark.skipif(sys.platform == "win32",
                    reason="Windows cannot send SIGINT to a single child process")
def test_ctrl_c_stops_after_the_step_and_still_saves(tmp_path):
    png, npz = tmp_path / "acc.png", tmp_path / "p.npz"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnet"] + SAMPLE + ["--iters", "100000000", "--plot", str(png),
                                                   "--save", str(npz)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(tmp_path))
    try:
        # Interrupt once training is under way (the first epoch line is out).
        for line in proc.stdout:
            if line.startswith("train acc, test acc | "):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted (Ctrl-C) after " in out and " of 100000000 iterations" in out
    assert "train acc " in out and "it/s" in out
    assert png.read_bytes()[:4] == b"\x89PNG"
    net = training.load_params(npz)
    assert np.isfinite(net.params["W1"]).all()
