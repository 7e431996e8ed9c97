"""Convolution layers of the book's networks: cnet against the book's NumPy
layer (cnet.reference), forward and backward, for several chunk sizes.

    python bench/bench_conv_layers.py            # chunk sizes 256 KiB .. whole batch

Prints the fastest of 7 calls of each (the machine is shared: the minimum
is the least disturbed figure), alternating the implementations.
"""
import sys
import time

import numpy as np

import cnet.layers.convolution as conv
from cnet import reference as ref

CASES = [("SimpleConvNet conv1", (100, 1, 28, 28), (30, 1, 5, 5), 0),
         ("DeepConvNet conv2", (100, 16, 28, 28), (16, 16, 3, 3), 1),
         ("DeepConvNet conv4", (100, 32, 14, 14), (32, 32, 3, 3), 2),
         ("DeepConvNet conv6", (100, 64, 8, 8), (64, 64, 3, 3), 1)]


def fastest(fn, repeats=7):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(chunks=(1 << 18, 1 << 20, 1 << 22, 1 << 40)):
    rng = np.random.default_rng(0)
    for name, xs, ws, pad in CASES:
        x = rng.standard_normal(xs)
        W = rng.standard_normal(ws) * 0.1
        b = np.zeros(ws[0])
        book = ref.Convolution(W, b, 1, pad)
        dout = np.ones_like(book.forward(x))
        cells = ["book %.1f/%.1f ms" % (fastest(lambda: book.forward(x), 3) * 1e3,
                                       fastest(lambda: book.backward(dout), 3) * 1e3)]
        for chunk in chunks:
            conv.CHUNK_BYTES = chunk
            layer = conv.Convolution(W, b, 1, pad)
            layer.forward(x)
            cells.append("%s %.1f/%.1f ms" % (
                "whole batch" if chunk >= 1 << 40 else "%d KiB" % (chunk >> 10),
                fastest(lambda: layer.forward(x)) * 1e3,
                fastest(lambda: layer.backward(dout)) * 1e3))
        print("%-20s forward/backward: %s" % (name, "; ".join(cells)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
