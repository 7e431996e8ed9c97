"""Reliability promises of RELIABILITY.md: memory safety under threads, thread
bounds, Ctrl-C, non-finite values, unaligned arrays.

Tests that could crash the interpreter (a use-after-free, an OpenMP abort)
run their body in a child process, so that a crash fails the test with the
child's exit status instead of killing the test run.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import cnet
from cnet import reference
from cnet.two_layer_net import TwoLayerNet


# --- item 1: arrays kept alive while the GIL is released -------------------

SWAP_PARAMS = """
import sys, threading, time
import numpy as np
from cnet.two_layer_net import TwoLayerNet

np.random.seed(0)
net = TwoLayerNet(784, 50, 10)
x = np.random.rand(100, 784).astype(np.float32)
x[x < 0.8] = 0
t = np.eye(10)[np.random.randint(0, 10, 100)]
stop = time.monotonic() + {seconds}
done = []

def swap():
    # replaces the arrays (the old ones are freed at once) as fast as it can
    while time.monotonic() < stop:
        for k in ("W1", "b1", "W2", "b2"):
            net.params[k] = net.params[k] - 0.0

def call(method):
    n = 0
    while time.monotonic() < stop:
        method(x, t)
        n += 1
    done.append(n)

threads = [threading.Thread(target=swap)] + [
    threading.Thread(target=call, args=(m,)) for m in (net.gradient, net.loss, net.accuracy)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print("calls", sum(done))
"""


def test_params_replaced_by_another_thread_during_a_call(tmp_path):
    """Before the fix, fast_loss/fast_gradient/fast_accuracy dropped their
    references to params' arrays before releasing the GIL: another thread
    assigning params["W1"] freed the array mid-call (a segfault 4 runs in 5).
    The child must run to its end with exit status 0."""
    # glibc then returns every freed array to the system at once (no
    # dynamic threshold), so a read of a freed W1 faults instead of reading
    # stale memory; ASan (tools/sanitize.sh) reports it in any case.
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    res = subprocess.run([sys.executable, "-c", SWAP_PARAMS.format(seconds=1.5)], env=env,
                         capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    assert int(res.stdout.split()[-1]) > 0


# --- item 8: the OpenMP probe builds with the build's own flags -------------

SETUP_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "setup.py")


def _load_setup():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cnet_setup_under_test", SETUP_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # defines the helpers; setup() runs only as __main__
    return mod


@pytest.mark.skipif(not os.path.exists(SETUP_PY), reason="no setup.py beside the tests")
@pytest.mark.skipif(sys.platform != "linux", reason="GCC's sanitizers: Linux builds")
def test_openmp_probe_uses_cflags(monkeypatch, tmp_path):
    """With CFLAGS=-fsanitize=address,undefined (the sanitizer build), the
    probe compiled with the sanitizer but linked without it and failed, so the
    build went single-threaded without a word. It must now succeed."""
    pytest.importorskip("setuptools", reason="setuptools is not installed in this venv")
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    setup_mod = _load_setup()
    monkeypatch.setenv("CFLAGS", "-fsanitize=address,undefined")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    cc = new_compiler()
    customize_compiler(cc)
    assert setup_mod._probe_openmp(cc, ["-fopenmp"], ["-fopenmp"]) is None


@pytest.mark.skipif(not os.path.exists(SETUP_PY), reason="no setup.py beside the tests")
@pytest.mark.skipif(sys.platform != "linux", reason="GCC flags: Linux builds")
def test_openmp_probe_reports_why(monkeypatch, tmp_path):
    """A flag the linker cannot honour makes the probe fail with the
    compiler's message (which CNET_REQUIRE_OPENMP=1 turns into an error)."""
    pytest.importorskip("setuptools", reason="setuptools is not installed in this venv")
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    setup_mod = _load_setup()
    monkeypatch.setenv("LDFLAGS", "-lcnet_no_such_library")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    cc = new_compiler()
    customize_compiler(cc)
    error = setup_mod._probe_openmp(cc, ["-fopenmp"], ["-fopenmp"])
    # The linker's own words reach the build log on stderr; the returned
    # message names the library (older setuptools) or the failed command.
    assert error and ("cnet_no_such_library" in error or "exit" in error), error


# --- item 4: thread counts bounded, per-thread setting defined ---------------

def test_set_num_threads_bounded(restore_threads):
    """set_num_threads(10**6) was accepted; OpenMP then failed to create the
    threads and ended the process with status 1 and no Python exception."""
    cap = cnet.config.max_threads()
    if not cnet.config.config_info()["openmp"]:
        pytest.skip("built without OpenMP: every count is ignored")
    assert cap >= 64
    cnet.set_num_threads(cap)
    assert cnet.get_num_threads() == cap
    for bad in (cap + 1, 10**6, 2**40):
        with pytest.raises(ValueError, match=r"n must be <= %d" % cap):
            cnet.set_num_threads(bad)
    assert cnet.get_num_threads() == cap  # a refused count changes nothing


def test_huge_omp_num_threads_is_held_to_the_bound(tmp_path):
    """OMP_NUM_THREADS beyond the bound (which Python code cannot refuse) is
    held to max_threads(): the kernels run instead of ending the process."""
    code = """
        import numpy as np, cnet
        from cnet.two_layer_net import TwoLayerNet
        net = TwoLayerNet(20, 7, 3)
        x = np.random.rand(5000, 20)
        print(cnet.get_num_threads() == cnet.config.max_threads(),
              net.accuracy(x, np.zeros(5000, dtype=np.intp)) >= 0)
    """
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=120, cwd=str(tmp_path),
                         env=dict(os.environ, OMP_NUM_THREADS="1000000"))
    assert res.returncode == 0, (res.returncode, res.stderr[-2000:])
    assert res.stdout.split() == ["True", "True"]


def test_new_python_thread_starts_from_the_process_default(restore_threads):
    """The documented rule: set_num_threads applies to the calling thread; a
    thread started later sees the start-up default (OMP_NUM_THREADS or the CPU
    count), and may set its own count without touching the caller's."""
    import threading

    if not cnet.config.config_info()["openmp"]:
        pytest.skip("built without OpenMP: the count is always 1")
    seen = []

    def look(set_to=None):
        seen.append(cnet.get_num_threads())
        if set_to is not None:
            cnet.set_num_threads(set_to)
            seen.append(cnet.get_num_threads())

    th = threading.Thread(target=look)
    th.start()
    th.join()
    default = seen.pop()
    mine = 1 if default != 1 else 2
    cnet.set_num_threads(mine)
    th = threading.Thread(target=look, args=(3,))
    th.start()
    th.join()
    assert seen == [default, 3]
    assert cnet.get_num_threads() == mine


# --- item 3: non-finite values propagate as in the book's NumPy --------------

def _pair(I, H, O, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(I, H, O, dtype=dtype)
    ref = reference.TwoLayerNet(I, H, O)
    for k, shape in (("W1", (I, H)), ("b1", (H,)), ("W2", (H, O)), ("b2", (O,))):
        net.params[k] = rng.normal(0, 0.5, shape).astype(dtype)
        ref.params[k] = net.params[k].astype(np.float64)
    return net, ref


def _same_nonfinite(got, want):
    """Same places hold NaN, +inf, -inf; finite values close. The point here
    is where non-finite values go: rtol 1e-3 covers float32 compute (the
    exact tolerances are test_two_layer_net's)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("B", [3, 100, 600])  # 600: the padded W1 copy of large batches
@pytest.mark.parametrize("dtype,xdtype", [(np.float64, np.float32), (np.float64, np.float64),
                                          (np.float32, np.float32)])
def test_nonfinite_weight_at_a_zero_input(bad, B, dtype, xdtype):
    """W1[0, 0] = inf with x[:, 0] = 0: the book computes 0 * inf = NaN in
    x·W1, so every probability row is NaN; the sparse path skipped the zero
    input and gave finite probabilities. Only some rows have x[:, 1] = 0 too,
    where W1[1, 2] is NaN, so rows differ."""
    I, H, O = 30, 7, 4
    net, ref = _pair(I, H, O, dtype)
    rng = np.random.default_rng(1)
    x = (rng.random((B, I)) * (rng.random((B, I)) < 0.4)).astype(xdtype)
    x[:, 0] = 0
    t = rng.integers(0, O, B)
    T = np.eye(O)[t]
    for p in (net, ref):
        p.params["W1"][0, 0] = bad
    with np.errstate(all="ignore"):
        _same_nonfinite(net.predict(x), ref.predict(x))
        for labels in (T, t):
            _same_nonfinite(net.loss(x, labels), ref.loss(x, labels))
            assert net.accuracy(x, labels) == ref.accuracy(x, labels)
            got, want = net.gradient(x, labels), ref.gradient(x, labels)
            for k in ("W1", "b1", "W2", "b2"):
                _same_nonfinite(got[k], want[k])


@pytest.mark.parametrize("B", [5, 130])  # 130: two passes of the gradient
def test_nonfinite_dz1_reaches_gradient_of_zero_inputs(B):
    """A NaN label row makes that row's dz1 NaN; the book's xᵀ·dz1 then puts
    NaN in every row of gW1, also where x is 0, which the sparse path
    skipped. W1 stays finite: only the row's dz1 says so."""
    I, H, O = 20, 6, 3
    net, ref = _pair(I, H, O)
    rng = np.random.default_rng(2)
    x = rng.random((B, I)) * (rng.random((B, I)) < 0.3)
    T = np.eye(O)[rng.integers(0, O, B)]
    T[B // 2, 1] = np.nan
    with np.errstate(all="ignore"):
        got, want = net.gradient(x, T), ref.gradient(x, T)
    for k in ("W1", "b1", "W2", "b2"):
        _same_nonfinite(got[k], want[k])
    assert np.isnan(got["W1"]).all()


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan, 1e300, -1e300])
def test_nonfinite_and_huge_inputs(value):
    """Non-finite and huge inputs (not weights) took the same path before;
    kept as a guard: inf * 0-weight = NaN, 1e300 * w overflows to inf."""
    I, H, O, B = 12, 5, 3, 9
    net, ref = _pair(I, H, O)
    net.params["W1"][3, :2] = 0.0
    ref.params["W1"][3, :2] = 0.0
    x = np.random.default_rng(3).random((B, I))
    x[::2, 3] = value
    t = np.arange(B) % O
    with np.errstate(all="ignore"):
        _same_nonfinite(net.predict(x), ref.predict(x))
        got, want = net.gradient(x, t), ref.gradient(x, t)
    for k in ("W1", "b1", "W2", "b2"):
        _same_nonfinite(got[k], want[k])


# --- item 5: Ctrl-C during a long compiled call ------------------------------

NUMGRAD_CHILD = """
import signal, sys, time
# SIGINT may be inherited ignored (a background job of a script): Python's
# KeyboardInterrupt handler, as in an interactive session.
signal.signal(signal.SIGINT, signal.default_int_handler)
import numpy as np
from cnet.two_layer_net import TwoLayerNet

np.random.seed(0)
net = TwoLayerNet(784, 800, 10)
x = np.random.rand(8000, 784).astype(np.float32)
x[x < 0.8] = 0
t = np.random.randint(0, 10, 8000)
before = {k: v.copy() for k, v in net.params.items()}
x_before = x.copy()
print("ready", flush=True)
try:
    net.numerical_gradient(x, t)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    same = all(np.array_equal(before[k], net.params[k]) for k in before)
    print(same, np.array_equal(x, x_before), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child: POSIX")
def test_numerical_gradient_answers_ctrl_c(tmp_path):
    """The whole numerical gradient at 784-800-10 with 2,000 rows was one C
    call: KeyboardInterrupt came 3.5 s after SIGINT. With 8,000 rows (3.6 s
    uninterrupted on a quiet 2-core machine, so the signal at 0.3 s lands
    well inside the call even there) it now
    comes after the chunk in progress. The bound asserted is loose (3 s: on a
    2-core machine at load 10 running the baseline build a chunk took 2.1 s),
    below the 3.3 s that the rest of the uninterrupted call takes on a quiet
    machine, and far below what it takes on a busy one; the latency measured
    is in RELIABILITY.md. The parameters and x are
    unchanged."""
    proc = subprocess.Popen([sys.executable, "-c", NUMGRAD_CHILD], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(tmp_path))
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # well inside the call
        proc.send_signal(signal.SIGINT)
        sent = time.perf_counter()
        first = proc.stdout.readline().strip()
        late = time.perf_counter() - sent
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert first == "interrupted", (first, out, err[-2000:])
    assert late < 3.0, late
    assert out.split() == ["True", "True"]
