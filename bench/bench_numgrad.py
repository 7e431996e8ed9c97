"""One numerical-gradient step of TwoLayerNet(784, 50, 10) on 100 real MNIST images.

cnet's incremental kernel against the book's brute force (cnet.reference), in
one process run, with 1 and 2 threads. Prints a Markdown table.

    python bench/bench_numgrad.py [--repeats 50] [--ref-repeats 3]

The weights are the book's initial ones after np.random.seed(0)
(weight_init_std=0.01), the batch is the first 100 training images scaled to
[0, 1] as float32 (what load_mnist(normalize=True) returns). MNIST is read
from $CNET_MNIST_MIRROR, else /work/shared/datasets/mnist.
"""
import argparse
import gzip
import os
import platform
import statistics
import sys
import time

import numpy as np

import cnet
from cnet import reference
from cnet._netgrad import numerical_gradient

MNIST_DIRS = [os.environ.get("CNET_MNIST_MIRROR", ""), "/work/shared/datasets/mnist"]


def read_idx(name):
    """An IDX file of the MNIST distribution as a uint8 array (images flattened)."""
    for d in MNIST_DIRS:
        path = os.path.join(d, name)
        if d and os.path.exists(path):
            with gzip.open(path, "rb") as f:
                data = f.read()
            ndim = data[3]
            dims = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
            arr = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
            return arr.reshape(dims[0], -1) if ndim > 1 else arr
    sys.exit("MNIST not found: set CNET_MNIST_MIRROR to a folder with %s" % name)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=50, help="cnet repeats (median)")
    ap.add_argument("--ref-repeats", type=int, default=3,
                    help="cnet.reference repeats (median); each takes ~20 s")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--ref-blas-threads", type=int, default=1,
                    help="BLAS threads for cnet.reference (default 1: on a shared 2-core "
                         "machine OpenBLAS threads make the reference 10-20x slower)")
    args = ap.parse_args(argv)

    x = (read_idx("train-images-idx3-ubyte.gz")[:args.batch].astype(np.float32) / 255.0)
    t = read_idx("train-labels-idx1-ubyte.gz")[:args.batch].astype(np.intp)
    np.random.seed(0)
    ref_net = reference.TwoLayerNet(784, 50, 10, weight_init_std=0.01)
    p = ref_net.params
    args_c = (x, t, p["W1"], p["b1"], p["W2"], p["b2"])
    n_params = sum(v.size for v in p.values())

    threads_before = cnet.get_num_threads()
    cnet_times = {}
    for nt in (1, 2):
        cnet.set_num_threads(nt)
        numerical_gradient(*args_c)  # warm-up: pages, thread team
        cnet_times[nt], _ = median_time(lambda: numerical_gradient(*args_c), args.repeats)
    cnet.set_num_threads(threads_before)
    ours = dict(zip(("W1", "b1", "W2", "b2"), numerical_gradient(*args_c)))

    ref_grads = None

    def run_ref():
        nonlocal ref_grads
        ref_grads = ref_net.numerical_gradient(x, t)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        sys.exit("threadpoolctl is needed to pin the reference's BLAS threads")
    with threadpool_limits(args.ref_blas_threads, user_api="blas"):
        ref_time, ref_all = median_time(run_ref, args.ref_repeats)
    err = max(float(np.abs(ours[k] - ref_grads[k]).max()) for k in ours)
    loss = float(ref_net.loss(x, t))
    eps_bound = 8 * np.finfo(np.float64).eps * loss / 1e-4

    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join("%s %s threads" % (i.get("internal_api"), i.get("num_threads"))
                         for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        blas = "unknown (threadpoolctl not installed)"

    print("## numerical_gradient step: TwoLayerNet(784, 50, 10), batch %d real MNIST images"
          % args.batch)
    print()
    print("python %s, numpy %s (BLAS: %s), cnet %s, %s"
          % (platform.python_version(), np.__version__, blas or "none found",
             cnet.__version__, cnet.config.config_info().get("simd_dispatch", "")))
    print("batch density (non-zeros): %.3f; parameters: %d; loss %.6f"
          % (float((x != 0).mean()), n_params, loss))
    print()
    print("| implementation | threads | median time | repeats | speed-up vs reference |")
    print("|---|---|---|---|---|")
    print("| cnet.reference (book's brute force) | BLAS %d | %.2f s | %d (%s) | 1x |"
          % (args.ref_blas_threads, ref_time, args.ref_repeats, ", ".join("%.2f" % v for v in ref_all)))
    for nt in (1, 2):
        print("| cnet._netgrad | %d | %.3f ms | %d | %.0fx |"
              % (nt, cnet_times[nt] * 1e3, args.repeats, ref_time / cnet_times[nt]))
    print()
    print("2 threads vs 1: %.2fx" % (cnet_times[1] / cnet_times[2]))
    print("reference per parameter: %.1f us" % (ref_time / n_params * 1e6))
    print("max |cnet - reference| over all entries: %.2e (rounding bound 8 eps L / h = %.1e)"
          % (err, eps_bound))


if __name__ == "__main__":
    main()
