"""Time cnet.functions against PyTorch (when installed) and cnet.reference (the
book's NumPy code), each kernel beside a plain copy of the bytes it moves.

Usage::

    python bench/bench_functions.py [--threads 2] [--rounds 21] [--dtypes float64 float32]
                                    [--only sigmoid softmax ...] [--no-reference]

Each kernel runs on 10^6-element inputs (softmax on 1000 rows of 1000, the
losses on 10^5 rows of 10 classes). cnet, torch, the copy and the reference
are called in alternating rounds in this one process (medians over the
rounds), with ``--threads`` threads in cnet and torch. Results are checked
against the reference before timing. GB/s counts the bytes a kernel must move
(inputs read, output written); the copy moves the same bytes (half read, half
written) with torch's parallel copy, or NumPy's when torch is absent.
"""
import argparse
import os
import platform
import sys

import numpy as np

import cnet
from cnet.benchmark.functions_bench import NAMES, run, table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--only", nargs="+", default=list(NAMES), choices=NAMES)
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    before = cnet.get_num_threads()
    cnet.set_num_threads(args.threads)
    try:
        rows = run(torch, dtypes=args.dtypes, names=args.only, rounds=args.rounds,
                   reference=not args.no_reference)
    finally:
        cnet.set_num_threads(before)
    print("command: python %s" % " ".join(sys.argv))
    print("cnet %s, NumPy %s, torch %s, Python %s, %s, %d CPUs, load average %s, %d threads"
          % (cnet.__version__, np.__version__, torch.__version__ if torch else "not installed",
             platform.python_version(), platform.machine(), os.cpu_count(),
             " ".join("%.1f" % v for v in os.getloadavg()), args.threads))
    print(table(rows))


if __name__ == "__main__":
    main()
