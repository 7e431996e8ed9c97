"""Time load_mnist: first load from a local mirror, then cached loads.

Usage::

    CNET_MNIST_MIRROR=/path/to/mnist python bench/dataset_load.py [--repeat 7]

Reports medians over ``--repeat`` runs, in seconds. The "first load" rebuilds
the cache each time (read the four .gz files, decompress, check the IDX
headers and SHA-256s, write the .npz, read it back and check it in full).
"cached" is what every later call costs: read the .npz, check its .npy headers
and zip CRC-32s, convert. The book's way of caching (a pickle of the four uint8
arrays, loaded with pickle.load and converted, with no check) is timed on the
same data, its calls alternating with cnet's in one loop, so that both see the
same machine load.
"""
import argparse
import os
import pickle
import platform
import statistics
import sys
import tempfile
import time

import numpy as np

import cnet
from cnet.dataset.mnist import load_mnist


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def book_pickle_load(path, normalize, one_hot_label):
    with open(path, "rb") as f:
        dataset = pickle.load(f)
    if normalize:
        for key in ("train_img", "test_img"):
            dataset[key] = dataset[key].astype(np.float32)
            dataset[key] /= 255.0
    if one_hot_label:
        for key in ("train_label", "test_label"):
            X = dataset[key]
            T = np.zeros((X.size, 10))
            T[np.arange(X.size), X] = 1
            dataset[key] = T
    return dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    mirror = os.environ.get("CNET_MNIST_MIRROR")
    if not mirror:
        sys.exit("set CNET_MNIST_MIRROR to a folder holding the four MNIST .gz files")

    print("cnet %s, numpy %s, python %s, %s" % (cnet.__version__, np.__version__,
                                               platform.python_version(), platform.machine()))
    print("load average at start: %s" % (os.getloadavg(),))
    with tempfile.TemporaryDirectory() as home:
        cache = os.path.join(home, "mnist.npz")

        def first_load():
            if os.path.exists(cache):
                os.unlink(cache)
            load_mnist(data_home=home, mirror=mirror, verbose=False)

        print("first load (local mirror -> checked -> cache): %.3f s"
              % median_time(first_load, max(3, args.repeat // 2)))
        print("cache file: %.1f MB" % (os.path.getsize(cache) / 1e6))
        for kwargs in ({}, {"normalize": False}, {"one_hot_label": True},
                       {"flatten": False}):
            t = median_time(lambda: load_mnist(data_home=home, verbose=False, **kwargs),
                            args.repeat)
            print("cached load_mnist(%s): %.3f s"
                  % (", ".join("%s=%s" % kv for kv in kwargs.items()), t))

        (x, t), (xt, tt) = load_mnist(False, data_home=home, verbose=False)
        pkl = os.path.join(home, "mnist.pkl")
        with open(pkl, "wb") as f:
            pickle.dump({"train_img": x, "train_label": t, "test_img": xt,
                         "test_label": tt}, f, -1)
        for normalize, one_hot in ((True, False), (False, False), (True, True)):
            ours, book = [], []
            for _ in range(args.repeat):
                ours.append(median_time(lambda: load_mnist(
                    normalize=normalize, one_hot_label=one_hot, data_home=home,
                    verbose=False), 1))
                book.append(median_time(
                    lambda: book_pickle_load(pkl, normalize, one_hot), 1))
            a, b = statistics.median(ours), statistics.median(book)
            print("normalize=%s, one_hot_label=%s: cnet cache %.3f s, book-style pickle "
                  "(no check) %.3f s, cnet / book %.2f (alternating, medians of %d)"
                  % (normalize, one_hot, a, b, a / b, args.repeat))
        t_sample = median_time(lambda: load_mnist(sample=True, verbose=False), args.repeat)
        print("load_mnist(sample=True): %.3f s" % t_sample)
    print("load average at end: %s" % (os.getloadavg(),))


if __name__ == "__main__":
    main()
