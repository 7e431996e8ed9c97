"""Print SHA-256 digests of cnet's results on fixed inputs, to compare two builds bit for bit.

Usage::

    python tools/simd_fingerprint.py > a.txt     # with one build of cnet installed
    python tools/simd_fingerprint.py > b.txt     # with another (e.g. CNET_NO_DISPATCH)
    diff a.txt b.txt

or, to compare two such files::

    python tools/simd_fingerprint.py --compare a.txt b.txt

Each line is ``<name> <sha256 of the result's bytes>``. ``--compare`` fails when
any result differs, except those in ``MAY_DIFFER``: kernels built with
``CNET_DISPATCH_FMA`` (csrc/cnet_common.h) fuse multiply and add in their AVX2 and
AVX-512 clones, so their last bits depend on the CPU. Every other result must
be the same on every SIMD path. The inputs are drawn from
fixed seeds and sized so that the vector loops, their remainders and the
multi-threaded paths all run; MNIST-like inputs are ~80% zeros so the sparse paths
run too. The thread count is set to 2 so both builds split work the same way.
"""
import argparse
import hashlib
import sys

import numpy as np

import cnet
from cnet import functions


# Results computed by CNET_DISPATCH_FMA kernels (csrc/netgrad.c: its Taylor
# series loops; its forward products are the fully connected layer's, unfused).
MAY_DIFFER = ("numerical_gradient/",)


def digest(a):
    a = np.ascontiguousarray(a)
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()


def mnist_like(rng, n, dtype):
    x = rng.random((n, 784))
    x[rng.random((n, 784)) < 0.8] = 0.0
    return x.astype(dtype)


def results():
    rng = np.random.default_rng(20261122)
    for dtype in (np.float32, np.float64):
        tag = np.dtype(dtype).name
        x = (rng.standard_normal((257, 1031)) * 4).astype(dtype)
        yield "sigmoid/" + tag, functions.sigmoid(x)
        yield "relu/" + tag, functions.relu(x)
        yield "softmax/" + tag, functions.softmax(x)
        labels = rng.integers(0, 1031, size=257)
        yield "cross_entropy_error/" + tag, np.asarray(
            functions.cross_entropy_error(functions.softmax(x), labels))

        np.random.seed(7)
        net = cnet.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
        xb = mnist_like(rng, 100, dtype)
        tb = np.eye(10)[rng.integers(0, 10, size=100)]
        yield "predict/" + tag, net.predict(xb)
        yield "loss/" + tag, np.asarray(net.loss(xb, tb))
        for key, g in sorted(net.gradient(xb, tb).items()):
            yield "gradient/%s/%s" % (key, tag), g
        for key, g in sorted(net.numerical_gradient(xb[:20], tb[:20]).items()):
            yield "numerical_gradient/%s/%s" % (key, tag), g


def compare(path_a, path_b):
    def read(path):
        with open(path) as f:
            return dict(line.split() for line in f if line.strip())
    a, b = read(path_a), read(path_b)
    if a.keys() != b.keys():
        print("simd_fingerprint: the two runs computed different results: %s"
              % sorted(a.keys() ^ b.keys()), file=sys.stderr)
        return 1
    differ = sorted(k for k in a if a[k] != b[k])
    allowed = [k for k in differ if k.startswith(MAY_DIFFER)]
    wrong = [k for k in differ if not k.startswith(MAY_DIFFER)]
    print("simd_fingerprint: %d results, %d bit-identical, %d differ where FMA is "
          "allowed (%s)" % (len(a), len(a) - len(differ), len(allowed),
                           ", ".join(allowed) or "none"))
    if wrong:
        print("simd_fingerprint: FAILED, these differ between the builds: %s"
              % ", ".join(wrong), file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"),
                        help="compare two saved outputs instead of computing")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    cnet.set_num_threads(2)
    for name, value in results():
        print(name, digest(value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
