"""cnet.functions kernels against the memory bound of their own result.

Usage::

    python bench/functions_bound.py [--threads 2] [--rounds 21]
                                    [--cases softmax:float32 relu:float64 ...]

For each case (cnet.functions kernel and dtype, the inputs of
cnet.benchmark.functions_bench: 10^6 elements, softmax on 1000 rows of 1000)
five things are timed in alternating rounds in this one process (medians,
cnet.benchmark.timing.alternate): cnet's kernel, torch's, a copy of the input
into an array made once (torch's ``copy_``, on its threads: the bench's copy
bound), the same copy into a new array on every call (torch's ``clone``: what
any function that returns a new result pays at least), and torch's
``empty_like`` alone (the allocation). GB/s counts the input read and the
result written. Needs torch.
"""
import argparse
import sys

import numpy as np

import cnet
from cnet import functions
from cnet.benchmark.functions_bench import SETTLE_SECONDS, cases, torch_twins
from cnet.benchmark.timing import alternate

DEFAULT_CASES = ("softmax:float32", "softmax:float64", "relu:float32", "relu:float64",
         "sigmoid:float32")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES))
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    before = cnet.get_num_threads()
    cnet.set_num_threads(args.threads)
    twins = torch_twins(torch)
    print("command: python %s" % " ".join(sys.argv))
    print("| kernel | dtype | cnet | torch | copy into one array | copy into a new array "
          "| allocation | cnet GB/s | torch GB/s | copy GB/s | new-array copy GB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    try:
        for case in args.cases:
            name, dtype = case.split(":")
            (x,) = cases(np.dtype(dtype), np.random.default_rng(0))[name][1]
            tx = torch.from_numpy(x)
            dst = torch.empty_like(tx)
            fn = getattr(functions, name)
            tw = twins[name]
            secs = alternate({
                "cnet": lambda: fn(x),
                "torch": lambda: tw(tx),
                "copy": lambda: dst.copy_(tx),
                "new": lambda: tx.clone(),
                "alloc": lambda: torch.empty_like(tx),
            }, rounds=args.rounds, settle=SETTLE_SECONDS)
            nbytes = 2 * x.nbytes
            w = {k: v[0] for k, v in secs.items()}
            print("| %s | %s | %.0f us | %.0f us | %.0f us | %.0f us | %.1f us | %.1f | %.1f "
                  "| %.1f | %.1f |"
                  % (name, dtype, w["cnet"] * 1e6, w["torch"] * 1e6, w["copy"] * 1e6,
                     w["new"] * 1e6, w["alloc"] * 1e6, nbytes / w["cnet"] / 1e9,
                     nbytes / w["torch"] / 1e9, nbytes / w["copy"] / 1e9,
                     nbytes / w["new"] / 1e9))
            sys.stdout.flush()
    finally:
        cnet.set_num_threads(before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
