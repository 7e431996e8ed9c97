"""Time TwoLayerNet's gradient step, predict and the chapter-4 backprop recipe:
cnet against cnet.reference (the book's NumPy code), in one process.

Usage: python bench/bench_two_layer.py [--repeat N] [--iters N] [--mirror DIR]

Reads MNIST with cnet.dataset.mnist.load_mnist from --mirror (default
$CNET_MNIST_MIRROR). Prints medians of N repeats and the ratios reference / cnet.
"""
import argparse
import os
import platform
import statistics
import sys

import numpy as np

import cnet
from cnet import reference
from cnet.benchmark.recipe import train_ch04
from cnet.benchmark.timing import measure
from cnet.two_layer_net import TwoLayerNet


def load(mirror):
    from cnet.dataset.mnist import load_mnist
    return load_mnist(normalize=True, one_hot_label=True, mirror=mirror)


def median_time(fn, repeat, number=1):
    """Median over ``repeat`` rounds of the mean time of ``number`` calls."""
    return measure(lambda: [fn() for _ in range(number)], repeats=repeat,
                   warmup=0)["median"] / number


def recipe(net_cls, data, iters, seed=0):
    """The book's ch04/train_neuralnet.py loop; returns (seconds, last test acc)."""
    (x_train, t_train), (x_test, t_test) = data
    np.random.seed(seed)
    network = net_cls(input_size=784, hidden_size=50, output_size=10)
    res = train_ch04(network, x_train, t_train, x_test, t_test, iters_num=iters, seed=seed)
    return res["seconds"], res["test_acc"][-1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--iters", type=int, default=10000)
    ap.add_argument("--recipe-repeat", type=int, default=3)
    ap.add_argument("--mirror", default=None,
                    help="MNIST mirror folder or URL (default: load_mnist's own sources, "
                         "$CNET_MNIST_MIRROR among them)")
    args = ap.parse_args(argv)
    data = load(args.mirror)
    (x_train, t_train), (x_test, t_test) = data
    print("# %s, Python %s, numpy %s, cnet %d threads, cpu_count %s, load average %s"
          % (platform.processor() or platform.machine(), platform.python_version(),
             np.__version__, cnet.get_num_threads(), os.cpu_count(),
             " ".join("%.1f" % v for v in os.getloadavg())))
    rng = np.random.default_rng(0)
    mask = rng.choice(60000, 100)
    xb, tb = x_train[mask], t_train[mask]
    rows = []
    for label, kind in (("cnet", TwoLayerNet), ("reference", reference.TwoLayerNet)):
        np.random.seed(0)
        net = kind(784, 50, 10)
        rows.append((label, {
            "gradient (batch 100)": median_time(lambda: net.gradient(xb, tb), args.repeat, 50),
            "loss (batch 100)": median_time(lambda: net.loss(xb, tb), args.repeat, 50),
            "predict (10,000 test images)": median_time(lambda: net.predict(x_test), args.repeat),
            "accuracy (60,000 train images)":
                median_time(lambda: net.accuracy(x_train, t_train), args.repeat),
        }))
    recipe_times = {}
    for label, kind in (("cnet", TwoLayerNet), ("reference", reference.TwoLayerNet)):
        runs = [recipe(kind, data, args.iters) for _ in range(args.recipe_repeat)]
        recipe_times[label] = (statistics.median(r[0] for r in runs), runs[-1][1])
    print("| workload | cnet | reference | reference / cnet |")
    print("|---|---|---|---|")
    (_, ours), (_, ref) = rows
    for k in ours:
        print("| %s | %.3f ms | %.3f ms | %.1fx |" % (k, ours[k] * 1e3, ref[k] * 1e3,
                                                   ref[k] / ours[k]))
    k = "ch04 backprop recipe (%d iterations)" % args.iters
    print("| %s | %.2f s | %.2f s | %.1fx |" % (
        k, recipe_times["cnet"][0], recipe_times["reference"][0],
        recipe_times["reference"][0] / recipe_times["cnet"][0]))
    print("final test accuracy: cnet %.4f, reference %.4f"
          % (recipe_times["cnet"][1], recipe_times["reference"][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
