"""A convnet training step (gradient + Adam, batch 100) of cnet, the book's
code and PyTorch, alternated in one process as ``cnet bench`` does, with
several steps per timed call, as a training loop runs them back to back.

    python bench/conv_step_blocks.py [--net simple|deep] [--steps 10] [--rounds 5]

``--steps 1`` is ``cnet bench``'s conv_train_step (one step per call after a
rest); more steps per call leave each implementation's thread pool awake and
its caches warm between steps. Prints per-step medians of wall and process
CPU time.
"""
import argparse

import numpy as np

from cnet.benchmark import conv
from cnet.benchmark.data import load_benchmark_mnist
from cnet.benchmark.timing import alternate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", choices=("simple", "deep"), default="simple")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    ((x_train, t_train), _), source = load_benchmark_mnist()
    try:
        import torch
    except ImportError:
        torch = None

    class Ctx:
        pass
    ctx = Ctx()
    ctx.x_train, ctx.t_train, ctx.quick, ctx.torch = x_train, t_train, True, torch
    x, t = conv._batch(ctx)

    def block(step):
        def run():
            for _ in range(a.steps):
                step()
            return a.steps
        return run
    fns = {name: block(step) for name, step in conv._impls(ctx, a.net, x, t).items()}
    med = alternate(fns, a.rounds)
    print("%s step, batch %d, %d step(s) per call, median of %d; load %s; %s"
          % (a.net, conv.BATCH, a.steps, a.rounds,
             open("/proc/loadavg").read().split()[0], source))
    ref = med.get("reference")
    for name, (wall, cpu) in med.items():
        ratio = "" if ref is None else "  book / this %.1fx" % (ref[0] / wall)
        print("%-14s wall %8.2f ms  cpu %8.2f ms%s" % (name, wall * 1e3, cpu * 1e3, ratio))


if __name__ == "__main__":
    np.random.seed(0)
    main()
