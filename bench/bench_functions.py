"""Time cnet.functions against cnet.reference (the book's NumPy code).

Usage::

    python bench/bench_functions.py [--n 1000000] [--repeat 15] [--threads 1 2]

For each function and input (10^6 elements by default: a flat array, or a
batch of 10^5 rows of 10 classes as MNIST's output layer gives), reports the
median over ``--repeat`` calls of cnet and of the reference in the same
process, and their ratio (reference / cnet: above 1 means cnet is faster),
once per thread count in ``--threads``. Before timing, every pair of results
is checked to agree (so a fast wrong kernel cannot post a number).
"""
import argparse
import os
import platform
import warnings

import numpy as np

import cnet
from cnet import functions as F
from cnet import reference as R
from cnet.benchmark.timing import measure


def cases(n, rng):
    x = rng.standard_normal(n) * 5
    rows = n // 10
    a2 = rng.standard_normal((rows, 10)) * 3
    t = rng.integers(0, 10, rows)
    y = R.softmax(a2)
    return [
        ("sigmoid", "float64 (n,)", (x,)),
        ("sigmoid", "float32 (n,)", (x.astype(np.float32),)),
        ("sigmoid_grad", "float64 (n,)", (x,)),
        ("relu", "float64 (n,)", (x,)),
        ("relu_grad", "float64 (n,)", (x,)),
        ("softmax", "float64 (n/10, 10)", (a2,)),
        ("softmax", "float32 (n/10, 10)", (a2.astype(np.float32),)),
        ("softmax", "float64 (n,)", (x,)),
        ("cross_entropy_error", "float64 (n/10, 10), index t", (y, t)),
        ("cross_entropy_error", "float64 (n/10, 10), one-hot t", (y, np.eye(10)[t])),
        ("softmax_loss", "float64 (n/10, 10), index t", (a2, t)),
        ("sum_squared_error", "float64 (n,)", (x, x[::-1].copy())),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10**6)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    work = cases(args.n, rng)
    warnings.simplefilter("ignore")  # the reference's sigmoid may warn on overflow
    for name, _, fargs in work:
        got, want = getattr(F, name)(*fargs), getattr(R, name)(*fargs)
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-30)

    print("cnet %s, NumPy %s, Python %s, %s, %d CPUs, load average %s"
          % (cnet.__version__, np.__version__, platform.python_version(),
             platform.machine(), os.cpu_count(),
             " ".join("%.1f" % v for v in os.getloadavg())))
    print("n = %d, median of %d calls; ratio = reference / cnet" % (args.n, args.repeat))
    print("%-8s %-20s %-30s %10s %10s %7s" % ("threads", "function", "input",
                                           "cnet ms", "ref ms", "ratio"))
    before = cnet.get_num_threads()
    try:
        for threads in args.threads:
            cnet.set_num_threads(threads)
            for name, label, fargs in work:
                t_cnet = measure(lambda: getattr(F, name)(*fargs), repeats=args.repeat,
                                 warmup=0)["median"]
                t_ref = measure(lambda: getattr(R, name)(*fargs), repeats=args.repeat,
                                warmup=0)["median"]
                print("%-8d %-20s %-30s %10.3f %10.3f %7.1f"
                      % (threads, name, label, t_cnet * 1e3, t_ref * 1e3, t_ref / t_cnet))
    finally:
        cnet.set_num_threads(before)


if __name__ == "__main__":
    main()
