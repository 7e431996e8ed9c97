"""Rebuild cnet/dataset/data/mnist_sample.npz from the full MNIST files.

Usage::

    python tools/make_mnist_sample.py [MIRROR] [--out PATH]

MIRROR is a folder, file:// or http(s):// URL holding the four IDX gzip files
(default: $CNET_MNIST_MIRROR). Each file is checked against the SHA-256 in
cnet.dataset.mnist before it is used.

The sample is stratified by digit: each split keeps its digits' proportions
(largest-remainder rounding to exactly TRAIN_SIZE and TEST_SIZE images), and
within a digit the images are picked at evenly spaced positions of that digit's
list, in the files' order. No random numbers, no timestamps (the zip entries
carry a fixed date), so the same input gives the same bytes.

The sample holds the unmodified pixels and labels plus, as ``train_index`` and
``test_index``, each image's position in the original file. MNIST is CC BY-SA
3.0 (see cnet/dataset/data/LICENSE-MNIST.txt).
"""
import argparse
import hashlib
import io
import os
import sys
import zipfile

import numpy as np

from cnet.dataset._fetch import Mirror, fetch_idx
from cnet.dataset._progress import Progress
from cnet.dataset.mnist import MNIST

TRAIN_SIZE = 6000
TEST_SIZE = 1000
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                           "cnet", "dataset", "data", "mnist_sample.npz")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def stratified_indices(labels, size, num_classes=10):
    """Indices (sorted, int32) of ``size`` items keeping each class's share.

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (N,)
    size : int
        How many to keep, at most N.
    """
    counts = np.bincount(labels, minlength=num_classes)
    exact = counts * size / labels.size
    quota = np.floor(exact).astype(np.int64)
    # Largest remainder, ties to the smaller class label: sums to ``size`` exactly.
    short = size - int(quota.sum())
    order = sorted(range(num_classes), key=lambda d: (-(exact[d] - quota[d]), d))
    for d in order[:short]:
        quota[d] += 1
    picked = []
    for d in range(num_classes):
        members = np.flatnonzero(labels == d)
        q = int(quota[d])
        picked.append(members[(np.arange(q) * members.size) // q])
    return np.sort(np.concatenate(picked)).astype(np.int32)


def write_npz(path, arrays):
    """Write ``arrays`` as a compressed .npz whose bytes depend on the data only."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    data = buf.getvalue()
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mirror", nargs="?", default=os.environ.get(MNIST.mirror_env),
                        help="folder or URL with the four MNIST .gz files "
                             "(default: $%s)" % MNIST.mirror_env)
    parser.add_argument("--out", default=DEFAULT_OUT, help="output .npz")
    args = parser.parse_args(argv)
    if not args.mirror:
        parser.error("give the MNIST folder or URL, or set %s" % MNIST.mirror_env)

    mirror = Mirror(args.mirror)
    progress = Progress(True)
    full = {key: fetch_idx(mirror, entry, progress) for key, entry in MNIST.files.items()}

    train_index = stratified_indices(full["t_train"], TRAIN_SIZE)
    test_index = stratified_indices(full["t_test"], TEST_SIZE)
    sample = {
        "x_train": full["x_train"][train_index],
        "t_train": full["t_train"][train_index],
        "x_test": full["x_test"][test_index],
        "t_test": full["t_test"][test_index],
        "train_index": train_index,
        "test_index": test_index,
    }
    out = os.path.normpath(args.out)
    data = write_npz(out, sample)
    print("wrote %s: %d bytes, sha256 %s" % (out, len(data), hashlib.sha256(data).hexdigest()))
    for split in ("train", "test"):
        counts = np.bincount(sample["t_" + split], minlength=10)
        print("  %s: %d images, per digit %s" % (split, counts.sum(), counts.tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
