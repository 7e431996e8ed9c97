"""The book's ``common/util.py``: smoothing a loss curve, shuffling a data set,
and the output size of a convolution."""
import numpy as np

__all__ = ["smooth_curve", "shuffle_dataset", "conv_output_size"]

# The book's smoothing window: 11 points, Kaiser window with beta 2.
_WINDOW = 11


def smooth_curve(x):
    """A smoothed copy of a loss curve, for plotting.

    The curve is mirrored by 10 points at each end, convolved with a
    normalised 11-point Kaiser window (beta 2) and trimmed, so the result has
    x's length (for len(x) >= 11; shorter curves give what the book's
    formula gives).

    Parameters
    ----------
    x : array_like, shape (n,)

    Returns
    -------
    ndarray of float64, shape (n,).
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError("smooth_curve: x must be 1-D, got shape %s" % (x.shape,))
    if x.size == 0:
        raise ValueError("smooth_curve: x is empty")
    w = np.kaiser(_WINDOW, 2)
    padded = np.concatenate((x[_WINDOW - 1:0:-1], x, x[-1:-_WINDOW:-1]))
    y = np.convolve(w / w.sum(), padded, mode="valid")
    return y[5:len(y) - 5]


def shuffle_dataset(x, t):
    """x and t with their first axis permuted by one ``np.random.permutation``.

    Parameters
    ----------
    x : ndarray, shape (N, ...)
    t : ndarray, shape (N, ...)

    Returns
    -------
    x, t : new arrays, shuffled alike.
    """
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0 or x.shape[0] != t.shape[0]:
        raise ValueError("shuffle_dataset: x of shape %s and t of shape %s must have the "
                         "same first axis" % (x.shape, t.shape))
    permutation = np.random.permutation(x.shape[0])
    return x[permutation], t[permutation]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input_size + 2*pad - filter_size) / stride + 1, a float as in the book."""
    return (input_size + 2 * pad - filter_size) / stride + 1
