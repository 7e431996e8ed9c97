"""Time the fully connected layer of two builds of cnet against each other in one process.

Usage: python bench/affine_ab.py OLD_ROOT [--rounds 15] [--threads 1]

OLD_ROOT holds another build of the package (``OLD_ROOT/cnet`` with its
compiled modules, say a ``git worktree`` of an older commit built in place).
Its ``cnet/_affine`` extension and ``cnet/layers/affine.py`` are loaded beside
the installed ones; the two Affine layers then take turns
(``cnet.benchmark.timing.alternate``) on:

* ``Affine.forward`` of 100 and 10,000 MNIST training images (float32 rows,
  784 x 50 float64 weights, the book's initialisation), and
* one iteration of the chapter-5 recipe (``cnet.ch05_two_layer_net``:
  gradient of 100 images by backprop, then SGD), whose Affine layers are
  switched between the two classes.

B/A is new (installed) over old; medians of wall and process CPU time. The
data come from ``load_mnist``, so set CNET_MNIST_MIRROR when offline.
"""
import argparse
import importlib.util
import os
import sys

import numpy as np

import cnet
from cnet.benchmark.timing import alternate
from cnet.dataset.mnist import load_mnist
from cnet.layers import affine as new_affine


def load_old(root):
    """The old build's cnet.layers.affine module, bound to its own cnet._affine."""
    folder = os.path.join(root, "cnet")
    so = [f for f in os.listdir(folder) if f.startswith("_affine.") and f.endswith((".so", ".pyd"))]
    if not so:
        raise SystemExit("affine_ab: no compiled _affine in %s" % folder)
    spec = importlib.util.spec_from_file_location("cnet._affine", os.path.join(folder, so[0]))
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    spec = importlib.util.spec_from_file_location(
        "cnet.layers._affine_old", os.path.join(folder, "layers", "affine.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod._affine = ext  # its kernels, not the installed ones
    return mod


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old_root")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    old_affine = load_old(args.old_root)
    cnet.set_num_threads(args.threads)
    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    rng = np.random.default_rng(0)
    W = 0.01 * rng.standard_normal((784, 50))
    b = np.zeros(50)
    print("B/A = new / old, medians of %d alternating rounds, %d thread(s)"
          % (args.rounds, args.threads))
    for rows in (100, 10000):
        x = x_train[:rows]
        layers = {"A": old_affine.Affine(W, b), "B": new_affine.Affine(W, b)}
        outs = [layers[k].forward(x) for k in "AB"]
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-15)
        reps = max(1, 20000 // rows)

        def timed(layer):
            def run():
                for _ in range(reps):
                    layer.forward(x)
                return reps
            return run
        res = alternate({k: timed(v) for k, v in layers.items()}, args.rounds)
        print("Affine.forward, %5d rows: A %8.1f us  B %8.1f us  B/A %.3f (cpu B/A %.3f)"
              % (rows, res["A"][0] * 1e6, res["B"][0] * 1e6, res["B"][0] / res["A"][0],
                 res["B"][1] / res["A"][1]))

    from cnet.ch05_two_layer_net import TwoLayerNet
    np.random.seed(0)
    net = TwoLayerNet(784, 50, 10)
    affines = [net.layers["Affine1"], net.layers["Affine2"]]
    batch = np.random.default_rng(1).choice(x_train.shape[0], (1000, 100))
    state = {"i": 0}

    def step(cls):
        def run():
            for layer in affines:
                layer.__class__ = cls
            for _ in range(10):
                idx = batch[state["i"] % len(batch)]
                state["i"] += 1
                grads = net.gradient(x_train[idx], t_train[idx])
                for key in ("W1", "b1", "W2", "b2"):
                    net.params[key] -= 0.1 * grads[key]
            return 10
        return run
    res = alternate({"A": step(old_affine.Affine), "B": step(new_affine.Affine)}, args.rounds)
    print("ch05 iteration (gradient + SGD, 100 images): A %7.1f us  B %7.1f us  B/A %.3f "
          "(cpu B/A %.3f)" % (res["A"][0] * 1e6, res["B"][0] * 1e6, res["B"][0] / res["A"][0],
                              res["B"][1] / res["A"][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
