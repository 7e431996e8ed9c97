"""The workloads of ``cnet bench`` and the loop that runs them.

Every workload times cnet, ``cnet.reference`` (the book's NumPy code paths) and,
when it is installed, PyTorch on the CPU, in this one process run (the training
recipes each in a fresh child process, so their peak memory is their own), and
returns rows ``{"workload", "case", "impl", "seconds", ...}``. Ratios are always
``reference seconds / impl seconds`` within one workload and case.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from .timing import fmt_seconds, measure

SIZES = (784, 50, 10)      # the chapter-4 network
N_PARAMS = 784 * 50 + 50 + 50 * 10 + 10


def _torch():
    """The torch module when installed (and importable), else None."""
    try:
        import torch
    except Exception:
        return None
    return torch


class Context:
    """What every workload needs: data, options, and a log function."""

    def __init__(self, quick=False, use_torch=True, log=print):
        from .data import load_benchmark_mnist
        self.quick = quick
        self.log = log
        self.torch = _torch() if use_torch else None
        data, self.data_source = load_benchmark_mnist()
        (self.x_train, self.t_train), (self.x_test, self.t_test) = data
        np.random.seed(0)
        mask = np.random.choice(self.x_train.shape[0], 100)
        self.x_batch = self.x_train[mask]
        self.t_batch = self.t_train[mask]

    def impls(self, dtypes=("float64", "float32")):
        """(label, impl, dtype) for every implementation to time."""
        out = [("reference", "reference", "float64")]
        out += [("cnet %s" % d, "cnet", d) for d in dtypes]
        if self.torch is not None:
            out += [("torch %s" % d, "torch", d) for d in dtypes]
        return out


def _row(workload, case, impl, seconds, **extra):
    row = {"workload": workload, "case": case, "impl": impl, "seconds": seconds}
    row.update(extra)
    return row


def _with_threads(ctx, n, fn):
    """Run fn with n threads in cnet (and torch), restoring both afterwards."""
    import cnet
    before = cnet.get_num_threads()
    tb = ctx.torch.get_num_threads() if ctx.torch is not None else None
    cnet.set_num_threads(n)
    if ctx.torch is not None:
        ctx.torch.set_num_threads(n)
    try:
        return fn()
    finally:
        cnet.set_num_threads(before)
        if ctx.torch is not None:
            ctx.torch.set_num_threads(tb)


# --- 1. one numerical-gradient step ------------------------------------------

def numgrad_step(ctx):
    """One ``numerical_gradient`` of TwoLayerNet(784, 50, 10) on 100 MNIST images."""
    from .recipe import make_net
    w = "numgrad_step"
    rows = []
    x, t = ctx.x_batch, ctx.t_batch
    net = make_net("cnet")
    # 1 and 2 threads in alternating rounds, so a burst of load elsewhere on a
    # shared machine hits both; the median over all rounds is reported.
    times = {1: [], 2: []}
    for _ in range(5):
        for n in (1, 2):
            m = _with_threads(ctx, n, lambda: measure(lambda: net.numerical_gradient(x, t),
                                                      repeats=20, min_seconds=0.2))
            times[n].append(m["median"])
    for n in (1, 2):
        rows.append(_row(w, "float64", "cnet %d thread%s" % (n, "s" * (n > 1)),
                         statistics.median(times[n]), repeats="5 rounds x 20"))
    ref = make_net("reference")
    if ctx.quick:
        # W2 has 500 parameters; the reference's cost per parameter (two full
        # forward passes) is the same for every parameter.
        from cnet import reference
        m = measure(lambda: reference.numerical_gradient(lambda W: ref.loss(x, t),
                                                         ref.params["W2"]),
                    repeats=1, warmup=0)
        rows.append(_row(w, "float64", "reference", m["median"] * N_PARAMS / 500,
                         note="extrapolated from 500 parameters"))
    else:
        m = measure(lambda: ref.numerical_gradient(x, t), repeats=1, warmup=0)
        rows.append(_row(w, "float64", "reference", m["median"], repeats=1))
    if ctx.torch is not None:
        for d in ("float32", "float64"):
            tn = make_net("torch", d)
            k = 300
            m = measure(lambda: tn.numerical_gradient(x, t, limit=k), repeats=1)
            rows.append(_row(w, "float64", "torch %s" % d, m["median"] * N_PARAMS / k,
                             note="extrapolated from %d parameters" % k))
    return rows


# --- 2 and 3. the chapter-4 recipe ----------------------------------------------

def _run_recipe(impl, dtype, grad, iters, threads=None):
    # PyTorch is imported before cnet in its run, so its OpenMP runtime keeps
    # its own defaults rather than the wait policy cnet sets on import. The
    # working directory leaves the child's path (-c puts it first): run from a
    # source checkout, its uncompiled cnet folder would shadow the installed one.
    first = "import torch; " if impl == "torch" else ""
    cmd = [sys.executable, "-c", "import sys; sys.path = [p for p in sys.path if p]; " + first
           + "from cnet.benchmark.recipe import main; sys.exit(main(sys.argv[1:]))",
           "--impl", impl, "--dtype", dtype,
           "--grad", grad, "--iters", str(iters)]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("recipe %s %s %s failed:\n%s" % (impl, dtype, grad, out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _recipe_row(w, label, res):
    return _row(w, "%d iterations" % res["iters"], label, res["seconds"],
                test_acc=res["test_acc"][-1], train_acc=res["train_acc"][-1],
                peak_rss_mb=None if res["peak_rss"] is None else res["peak_rss"] / 2**20)


# Runs of each implementation in the backprop recipe: they take turns, so a
# burst of load elsewhere on a shared machine hits one run, not one column,
# and the median of five stays put when two runs are hit (cnet's two-thread
# runs varied from 4.1 to 6.2 s in one run on the shared development machine).
RECIPE_ROUNDS = 5


def recipe_backprop(ctx):
    """The chapter-4 recipe with backprop, end to end, each run in a fresh
    process; RECIPE_ROUNDS rounds (one with --quick) in which every
    implementation runs once, and each row is its median run."""
    iters = 1000 if ctx.quick else 10000
    rounds = 1 if ctx.quick else RECIPE_ROUNDS
    impls = ctx.impls()
    runs = {label: [] for label, _, _ in impls}
    for k in range(rounds):
        for label, impl, dtype in impls:
            ctx.log("  %s (run %d of %d) ..." % (label, k + 1, rounds))
            runs[label].append(_run_recipe(impl, dtype, "backprop", iters))
    rows = []
    for label, _, _ in impls:
        done = sorted(runs[label], key=lambda res: res["seconds"])
        row = _recipe_row("recipe_backprop", label, done[len(done) // 2])
        row["repeats"] = rounds
        row["runs_seconds"] = [res["seconds"] for res in runs[label]]
        rows.append(row)
    return rows


def recipe_numerical(ctx, numgrad_rows=None, backprop_rows=None):
    """The chapter-4 recipe with the numerical gradient: cnet in full, the
    reference extrapolated from its measured numerical-gradient step."""
    iters = 500 if ctx.quick else 10000
    rows = []
    for d in ("float64",):
        res = _run_recipe("cnet", d, "numerical", iters)
        rows.append(_recipe_row("recipe_numerical", "cnet %s" % d, res))
    ref_step = next((r["seconds"] for r in numgrad_rows or ()
                     if r["impl"] == "reference"), None)
    ref_rest = next((r["seconds"] * iters / int(r["case"].split()[0])
                     for r in backprop_rows or () if r["impl"] == "reference"), 0.0)
    if ref_step is not None:
        rows.append(_row("recipe_numerical", "%d iterations" % iters, "reference",
                         ref_step * iters + ref_rest,
                         note="extrapolated: measured step x %d + the rest of the loop"
                         % iters))
    return rows


# --- 4. predict / accuracy over the test set -----------------------------------

def predict_test(ctx):
    """``predict`` and ``accuracy`` over the 10,000 test images."""
    from .recipe import make_net
    rows = []
    for label, impl, dtype in ctx.impls():
        net = make_net(impl, dtype)
        for what, fn in (("predict", lambda: net.predict(ctx.x_test)),
                         ("accuracy", lambda: net.accuracy(ctx.x_test, ctx.t_test))):
            m = measure(fn, repeats=10, min_seconds=0.5)
            rows.append(_row("predict_test", what, label, m["median"],
                             repeats=m["repeats"]))
    return rows


# --- 5. the cnet.functions kernels ------------------------------------------------

def functions(ctx):
    """The ``cnet.functions`` kernels on 10^6-element arrays, 2 threads, beside
    torch and a plain copy of the same bytes (cnet/benchmark/functions_bench.py)."""
    from .functions_bench import run
    return _with_threads(ctx, 2, lambda: run(ctx.torch, rounds=7 if ctx.quick else 21))


# --- 6. scaling -----------------------------------------------------------------

def _gradient_rows(ctx, workload, case, x, t, sizes, **extra):
    """Rows timing ``gradient(x, t)`` of cnet and the reference (float64) and,
    when installed, torch float32, each net made with ``make_net``."""
    from .recipe import make_net
    impls = [("cnet", "float64"), ("reference", "float64")]
    if ctx.torch is not None:
        impls.append(("torch", "float32"))
    rows = []
    for impl, d in impls:
        net = make_net(impl, d, sizes=sizes)
        m = measure(lambda: net.gradient(x, t), repeats=20, min_seconds=0.3)
        rows.append(_row(workload, case, impl if impl == "reference" else "%s %s" % (impl, d),
                         m["median"], **extra))
    return rows


def scaling(ctx):
    """How the cost grows with the work: hidden size, batch size, threads."""
    from .recipe import make_net
    rows = []
    hidden = (50, 100, 200, 400, 800)
    batches = (1, 10, 100, 1000)
    for H in hidden:
        sizes = (784, H, 10)
        cnet_net = make_net("cnet", sizes=sizes)
        m = measure(lambda: cnet_net.numerical_gradient(ctx.x_batch, ctx.t_batch),
                    repeats=5 if H > 200 else 10)
        rows.append(_row("scaling_hidden", "numerical_gradient H=%d" % H, "cnet",
                         m["median"], hidden=H))
        rows += _gradient_rows(ctx, "scaling_hidden", "gradient H=%d" % H, ctx.x_batch,
                               ctx.t_batch, sizes, hidden=H)
    for B in batches:
        rng = np.random.default_rng(B)
        mask = rng.integers(0, ctx.x_train.shape[0], B)
        xb, tb = ctx.x_train[mask], ctx.t_train[mask]
        cnet_net = make_net("cnet")
        m = measure(lambda: cnet_net.numerical_gradient(xb, tb), repeats=10)
        rows.append(_row("scaling_batch", "numerical_gradient B=%d" % B, "cnet",
                         m["median"], batch=B))
        rows += _gradient_rows(ctx, "scaling_batch", "gradient B=%d" % B, xb, tb, SIZES,
                               batch=B)
    from cnet import functions as F
    net = make_net("cnet")
    x = np.random.default_rng(1).standard_normal(10**6)
    cases = {
        "numerical_gradient": lambda: net.numerical_gradient(ctx.x_batch, ctx.t_batch),
        "gradient": lambda: net.gradient(ctx.x_batch, ctx.t_batch),
        "accuracy (test set)": lambda: net.accuracy(ctx.x_test, ctx.t_test),
        "sigmoid 10^6": lambda: F.sigmoid(x),
    }
    for name, fn in cases.items():
        for n in (1, 2):
            m = _with_threads(ctx, n, lambda: measure(fn, repeats=10, min_seconds=0.3))
            rows.append(_row("scaling_threads", name, "cnet %d thread%s" % (n, "s" * (n > 1)),
                             m["median"], threads=n))
    return rows


WORKLOADS = {
    "numgrad_step": numgrad_step,
    "recipe_backprop": recipe_backprop,
    "recipe_numerical": recipe_numerical,
    "predict_test": predict_test,
    "functions": functions,
    "scaling": scaling,
}
# The chapter-7/8 convnets (cnet/benchmark/conv.py).
from .conv import WORKLOADS as _CONV_WORKLOADS  # noqa: E402
WORKLOADS.update(_CONV_WORKLOADS)

# The dense-layer workloads (chapters 5 and 6) live in their own module.
from .layers import WORKLOADS as _LAYER_WORKLOADS  # noqa: E402
WORKLOADS.update(_LAYER_WORKLOADS)


def machine_description():
    """Facts about the machine and the installation, for the report."""
    import platform
    import cnet
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = cnet.config.config_info()
    torch = _torch()
    info.update(cpu=cpu, torch=None if torch is None else torch.__version__,
                torch_threads=None if torch is None else torch.get_num_threads(),
                date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    return info


def run_suite(out_dir, quick=False, only=None, use_torch=True, log=print,
              command="cnet bench"):
    """Run the workloads and write ``RESULTS.md``, ``results.json`` and PNG plots.

    Parameters
    ----------
    out_dir : str or path
        Created if missing; existing result files in it are replaced.
    quick : bool
        Fewer iterations and extrapolated reference steps (minutes, not ten).
    only : iterable of str, optional
        Names from :data:`WORKLOADS`; default all.
    use_torch : bool
        Include PyTorch when it is installed.
    log : callable
        Receives progress lines.
    command : str
        The command line recorded in the report, to reproduce it.

    Returns
    -------
    dict
        ``{"machine": ..., "rows": [...]}`` as written to results.json.
    """
    from .report import write_report
    names = list(WORKLOADS) if not only else list(only)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise ValueError("unknown workload(s) %s; choose from %s" % (unknown, list(WORKLOADS)))
    ctx = Context(quick=quick, use_torch=use_torch, log=log)
    log("data: %s; torch: %s" % (ctx.data_source,
                                 "not installed" if ctx.torch is None else ctx.torch.__version__))
    rows, by_name = [], {}
    for name in names:
        log("%s ..." % name)
        t0 = time.perf_counter()
        if name == "recipe_numerical":
            got = recipe_numerical(ctx, by_name.get("numgrad_step"),
                                   by_name.get("recipe_backprop"))
        else:
            got = WORKLOADS[name](ctx)
        by_name[name] = got
        rows.extend(got)
        log("%s done in %s" % (name, fmt_seconds(time.perf_counter() - t0)))
    result = {"machine": machine_description(), "data": ctx.data_source,
              "quick": quick, "command": command,
              "rows": rows}
    os.makedirs(out_dir, exist_ok=True)
    write_report(result, out_dir)
    return result
