"""Where the chapter-4 backprop recipe spends its time, step by step of the loop.

Usage: python bench/profile_recipe.py [--iters 2000] [--impl cnet|reference]

Runs the book's loop body (batch draw, gather, gradient, the script's own
``params[key] -= lr * grad[key]``, loss) for --iters iterations and prints the
mean microseconds per iteration of each step, then one epoch's accuracy
evaluation (all 60,000 training and 10,000 test images), which the recipe does
17 times. The batch draw, gather and update are the book script's own NumPy
code: they cost the same whichever network runs, and bound the recipe's ratio.
"""
import argparse
import time

import numpy as np

from cnet.benchmark.data import load_benchmark_mnist
from cnet.benchmark.recipe import make_net


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--impl", choices=("cnet", "reference"), default="cnet")
    args = ap.parse_args(argv)
    (x_train, t_train), (x_test, t_test) = load_benchmark_mnist()[0]
    net = make_net(args.impl)
    np.random.seed(0)
    steps = dict.fromkeys(("batch draw", "gather", "gradient", "update", "loss"), 0.0)
    for _ in range(args.iters):
        t0 = time.perf_counter()
        mask = np.random.choice(x_train.shape[0], 100)
        t1 = time.perf_counter()
        x_batch, t_batch = x_train[mask], t_train[mask]
        t2 = time.perf_counter()
        grad = net.gradient(x_batch, t_batch)
        t3 = time.perf_counter()
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grad[key]
        t4 = time.perf_counter()
        net.loss(x_batch, t_batch)
        t5 = time.perf_counter()
        for name, dt in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            steps[name] += dt
    t0 = time.perf_counter()
    net.accuracy(x_train, t_train)
    net.accuracy(x_test, t_test)
    acc = time.perf_counter() - t0
    print("%s, %d iterations" % (args.impl, args.iters))
    for name, total in steps.items():
        print("  %-10s %7.1f us/iteration" % (name, total / args.iters * 1e6))
    print("  accuracy over train + test (once per epoch, 17 times): %.1f ms" % (acc * 1e3))


if __name__ == "__main__":
    main()
