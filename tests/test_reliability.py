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


def run_child(code, timeout=120, **env):
    """Run code in a fresh interpreter (in a scratch folder, so the installed
    cnet is imported, not the source tree's); return the CompletedProcess."""
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                          capture_output=True, text=True, timeout=timeout,
                          cwd=os.path.dirname(os.path.abspath(__file__)) + "/..")


def _child_cwd(tmp_path):
    return str(tmp_path)


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
