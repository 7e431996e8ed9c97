"""The chapter-4 training recipe (ch04/train_neuralnet.py), for any implementation.

Run as ``python -m cnet.benchmark.recipe --impl cnet --grad backprop`` it trains
in a fresh process and prints one JSON line: wall time of the loop, the
accuracies, and the process's peak resident memory. The benchmark suite runs
each implementation this way so peak memory is measured per implementation.
"""
import argparse
import json
import sys

import numpy as np

from ..training import train

IMPLS = ("cnet", "reference", "torch")


def make_net(impl, dtype="float64", seed=0, sizes=(784, 50, 10)):
    """A TwoLayerNet of ``impl`` whose initial weights come from ``np.random.seed(seed)``.

    Every implementation starts from the book's initialisation with the same
    seed, so their training runs are comparable draw for draw.
    """
    from cnet import reference
    np.random.seed(seed)
    if impl == "reference":
        if dtype != "float64":
            raise ValueError("the reference computes in float64 only, as the book does")
        return reference.TwoLayerNet(*sizes)
    if impl == "cnet":
        from ..training import build_network
        return build_network("ch04", hidden=sizes[1], input_size=sizes[0],
                             output_size=sizes[2], dtype=dtype, seed=seed)
    if impl == "torch":
        import torch
        from .torch_net import TorchTwoLayerNet
        init = reference.TwoLayerNet(*sizes).params
        return TorchTwoLayerNet(init, dtype=getattr(torch, dtype))
    raise ValueError("impl must be one of %s, got %r" % (IMPLS, impl))


def train_ch04(network, x_train, t_train, x_test, t_test, iters_num=10000,
               batch_size=100, learning_rate=0.1, numerical=False, seed=0, log=None):
    """The book's loop (:func:`cnet.training.train`): losses, accuracies, the loop's time.

    Batches come from ``np.random.choice`` after ``np.random.seed(seed)``, so
    every implementation sees the same batches.
    """
    run = train(network, x_train, t_train, x_test, t_test, iters=iters_num,
                batch_size=batch_size, lr=learning_rate,
                grad="numerical" if numerical else "backprop", seed=seed, log=log)
    return {"seconds": run.seconds, "iters": run.iters_done,
            "loss_first": run.train_loss[0], "loss_last": run.train_loss[-1],
            "train_acc": run.train_acc, "test_acc": run.test_acc}


def peak_rss_bytes():
    """Peak resident memory of this process, or None where it cannot be read.

    On Linux it is VmHWM from /proc: ``getrusage``'s ru_maxrss there carries
    the parent's peak over fork and exec, so a child started by a large
    benchmark process would report the parent's size.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m cnet.benchmark.recipe",
                                description=__doc__.splitlines()[0])
    p.add_argument("--impl", choices=IMPLS, default="cnet")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--grad", choices=("backprop", "numerical"), default="backprop")
    p.add_argument("--iters", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--verbose", action="store_true", help="print the book's epoch lines")
    args = p.parse_args(argv)
    if args.iters < 1:
        p.error("--iters must be >= 1")

    from .data import load_benchmark_mnist
    (x_train, t_train), (x_test, t_test) = load_benchmark_mnist()[0]
    if args.threads:
        import cnet
        cnet.set_num_threads(args.threads)
        if args.impl == "torch":
            import torch
            torch.set_num_threads(args.threads)
    net = make_net(args.impl, args.dtype, args.seed)
    rss_before = peak_rss_bytes()
    res = train_ch04(net, x_train, t_train, x_test, t_test, iters_num=args.iters,
                     numerical=args.grad == "numerical", seed=args.seed,
                     log=(lambda s: print(s, file=sys.stderr)) if args.verbose else None)
    res.update(impl=args.impl, dtype=args.dtype, grad=args.grad,
               peak_rss=peak_rss_bytes(), rss_after_data=rss_before)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
