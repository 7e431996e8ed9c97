"""The book's ``common/util.py``: smoothing a loss curve, shuffling a data set,
the output size of a convolution, and im2col / col2im.

``im2col`` and ``col2im`` are compiled (cnet._im2col) and spread over OpenMP
threads; they return what the book's functions return, with no Python loop
over filter positions.
"""
import operator

import numpy as np

from . import _im2col

__all__ = ["smooth_curve", "shuffle_dataset", "conv_output_size", "im2col", "col2im"]

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


def _as_size(value, name, minimum):
    """value as an int >= minimum, or a TypeError/ValueError naming it."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %r" % (name, value)) from None
    if v < minimum:
        raise ValueError("%s must be >= %d, got %d" % (name, minimum, v))
    return v


def _conv_output_hw(H, W, filter_h, filter_w, stride, pad, what="filter"):
    """(out_h, out_w) of a window sliding over an (H, W) image, after checks.

    Raises a ValueError naming the argument when stride < 1, pad < 0 or the
    window is larger than the padded input.
    """
    filter_h = _as_size(filter_h, what + "_h", 1)
    filter_w = _as_size(filter_w, what + "_w", 1)
    stride = _as_size(stride, "stride", 1)
    pad = _as_size(pad, "pad", 0)
    if filter_h > H + 2 * pad or filter_w > W + 2 * pad:
        raise ValueError(
            "the %s (%d x %d) is larger than the padded input (%d x %d with pad=%d)"
            % (what, filter_h, filter_w, H + 2 * pad, W + 2 * pad, pad))
    return (H + 2 * pad - filter_h) // stride + 1, (W + 2 * pad - filter_w) // stride + 1


def _images(x, name, dtype):
    """x as a C-contiguous (N, C, H, W) array of dtype; copies only when x is
    not already such an array."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError("%s must have 4 dimensions (N, C, H, W), got shape %s"
                         % (name, x.shape))
    # The kernels' typed memoryviews take C-contiguous arrays only: a view
    # strided along N or C (x[:, ::2]) is copied too.
    if x.dtype != dtype or not x.flags.c_contiguous or not x.flags.aligned:
        # np.require, not np.ascontiguousarray: that one hands back an
        # unaligned C-contiguous array as it is, and C may not read a double
        # through a misaligned pointer
        x = np.require(x, dtype=dtype, requirements=("C", "A"))
    return x


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Unfold image patches into the rows of a matrix.

    Parameters
    ----------
    input_data : array_like, (N, C, H, W)
    filter_h, filter_w : int
        Filter height and width, at most the padded input's.
    stride : int, >= 1
    pad : int, >= 0
        Zeros added on each side of H and W.

    Returns
    -------
    col : ndarray, float64, (N*out_h*out_w, C*filter_h*filter_w)
        Row ``(n*out_h + oy)*out_w + ox`` holds the patch under the filter at
        output position (oy, ox) of image n, in (c, ky, kx) order, as the
        book's im2col (which also returns float64 for any input).
    """
    x = _images(input_data, "input_data", np.float64)
    N, C, H, W = x.shape
    out_h, out_w = _conv_output_hw(H, W, filter_h, filter_w, stride, pad)
    col = np.empty((N * out_h * out_w, C * filter_h * filter_w), dtype=np.float64)
    _im2col.im2col_into(x, filter_h, filter_w, stride, pad, col, False)
    return col


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """Fold a column matrix back into images, summing overlaps: the adjoint of
    im2col (``np.sum(im2col(x) * c) == np.sum(x * col2im(c))``).

    Parameters
    ----------
    col : array_like, (N*out_h*out_w, C*filter_h*filter_w) or any shape of
        that size (the book reshapes it)
    input_shape : tuple (N, C, H, W)
    filter_h, filter_w, stride, pad : int, as for im2col

    Returns
    -------
    img : ndarray, float64, (N, C, H, W)
        Summed in the book's order, so the values equal the book's col2im's.
    """
    try:
        N, C, H, W = (operator.index(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ValueError("input_shape must be 4 integers (N, C, H, W), got %r"
                         % (input_shape,)) from None
    if min(N, C, H, W) < 0:
        raise ValueError("input_shape must not be negative, got %r" % (input_shape,))
    out_h, out_w = _conv_output_hw(H, W, filter_h, filter_w, stride, pad)
    rows, K = N * out_h * out_w, C * filter_h * filter_w
    col = np.asarray(col)
    if col.size != rows * K:
        raise ValueError("col has %d elements; input_shape %r with a %dx%d filter "
                         "needs (%d, %d)" % (col.size, tuple(input_shape), filter_h,
                                             filter_w, rows, K))
    col = np.require(col, np.float64, ("C", "A")).reshape(rows, K)
    img = np.empty((N, C, H, W), dtype=np.float64)
    _im2col.col2im_into(col, filter_h, filter_w, stride, pad, img, False)
    return img
