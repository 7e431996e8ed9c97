"""The convnet workloads' plot and the command line's list of workloads (no
timing here: the workloads themselves run in tests/test_benchmark.py's
quick runs and in ``cnet bench``)."""
import subprocess
import sys

import pytest


def test_conv_scaling_plot_is_written(tmp_path):
    """plot_scaling draws one panel per network from conv_scaling rows and
    writes conv_scaling.png; other rows are ignored."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cnet.benchmark.conv import plot_scaling
    rows = [{"workload": "conv_scaling", "net": net, "impl": impl, "threads": th,
             "batch": n, "seconds": 0.001 * n * th}
            for net in ("simple", "deep") for impl in ("cnet float64", "torch float64")
            for th in (1, 2) for n in (50, 100)]
    rows.append({"workload": "scaling_batch", "seconds": 1.0})
    written = plot_scaling(rows, str(tmp_path), plt)
    assert [p.endswith("conv_scaling.png") for p in written] == [True]
    assert (tmp_path / "conv_scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_scaling(rows[-1:], str(tmp_path), plt) == []


def test_bench_help_lists_every_workload(tmp_path):
    """``cnet bench --help`` names each workload of the suite, conv and layer
    ones included (the list is read from WORKLOADS, not written out). The
    child starts outside the source folder, so that it imports the installed
    cnet, as in CI (a clean checkout has no compiled modules)."""
    from cnet.benchmark import WORKLOADS
    out = subprocess.run([sys.executable, "-m", "cnet", "bench", "--help"],
                         capture_output=True, text=True, check=True,
                         cwd=str(tmp_path)).stdout
    flat = " ".join(out.split())
    for name in WORKLOADS:
        assert name in flat, name
    assert "conv_scaling" in WORKLOADS and "conv_train_step" in WORKLOADS
