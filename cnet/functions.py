"""The book's ``common/functions.py``: activations, softmax and losses.

Every name of the book (and the Korean edition's ``mean_squared_error``) with
the book's results: the same shape, the same dtype the book's NumPy code gives
(e.g. ``sigmoid`` of uint8 is float16 as ``np.exp`` makes it, of int64 it is
float64, float32 stays float32; a Python scalar or 0-d array gives a NumPy
scalar, as a ufunc does), values equal to rounding. The work is done by the
compiled loops of ``cnet._functions`` (OpenMP-parallel on large inputs, with
results that do not depend on the thread count); this module checks arguments
and picks the loop.

Where the book's code is broken on today's NumPy (``-x`` on bool, integer
differences wrapping around on unsigned types) these functions do what it
meant: integer and bool inputs are first converted to the float type NumPy's
ufuncs would produce, which is also the dtype of the book's result.

Elementwise results and softmax keep the input's memory order as a ufunc
does (an F-ordered input gives an F-ordered result). Inputs are read in place,
strided and read-only ones included. Copies are made only of: an input whose
layout cannot be walked as rows of its last axis (say a 3-D array sliced in
its middle axis), a misaligned or byte-swapped input, an integer/bool input
(converted to the result's float dtype, as the book's result has it), and
float16 one-hot labels (widened to float32).
"""
import numpy as np

from . import _functions as _k

# "np" too: the book's ch04/two_layer_net.py never imports NumPy itself and gets
# ``np`` from ``from common.functions import *``, which exports every module name.
__all__ = [
    "identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu",
    "relu_grad", "softmax", "sum_squared_error", "mean_squared_error",
    "squared_error", "cross_entropy_error", "softmax_loss", "np",
]

_FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


# --- argument handling ------------------------------------------------------

def _real_array(x, func, name, negated=False):
    """x as a native-byte-order ndarray of bool, integer or float16/32/64.

    negated: the book's formula starts from -x, which turns a Python bool
    into an int (so its result is float64, not float16).
    """
    if negated and type(x) is bool:
        x = int(x)
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind not in "biuf" or (kind == "f" and a.dtype.itemsize not in (2, 4, 8)):
        raise TypeError("%s: %s must be real numbers (bool, integer, float16, float32 "
                        "or float64), got dtype %s" % (func, name, a.dtype))
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    elif not a.flags.aligned:
        # (np.frombuffer at an odd offset, a packed record field): C may not
        # read it in place; a copy in the same memory order is aligned.
        a = np.array(a, order="K")
    return a


def _float_dtype(dtype):
    """The float dtype ``np.exp`` returns for this input dtype."""
    if dtype in _FLOAT_DTYPES:
        return dtype
    return np.exp(np.zeros(0, dtype)).dtype


def _as_float(x):
    """x converted (only when not already float) to the float dtype of np.exp(x)."""
    rdt = _float_dtype(x.dtype)
    return x if x.dtype == rdt else x.astype(rdt)


_elem_strides = _k.elem_strides


def _rows(shape, strides):
    """(R, rs): the leading axes, outer to inner, enumerate R rows with one
    stride rs; None when they cannot (the axes do not nest)."""
    dims = [(n, s) for n, s in zip(shape, strides) if n != 1]
    R = 1
    for n, _ in dims:
        R *= n
    if not dims:
        return R, 0
    for (_, s_outer), (n_inner, s_inner) in zip(dims, dims[1:]):
        if s_outer != n_inner * s_inner:
            return None
    return R, dims[-1][1]


def _row_layout(x, out):
    """Arrange x (IN) and out (OUT, same shape, from empty_like) as rows of
    their last axis walked in the same order.

    Returns (x, out, R, C, xrs, xcs, ors, ocs, target): the arrays to hand to a
    kernel, with element strides; ``target`` is None or the array the kernel's
    output must be copied into (when out's layout nests no rows).
    """
    shape = out.shape
    if len(shape) == 0:
        return x, out, 1, 1, 0, 0, 0, 0, None
    C = shape[-1]
    # Leading axes ordered as out lays them out in memory (outer first).
    lead = sorted(range(len(shape) - 1), key=lambda k: -abs(out.strides[k]))
    perm = lead + [len(shape) - 1]
    target = None
    os_ = _elem_strides(out)
    orow = _rows([shape[k] for k in lead], [os_[k] for k in lead])
    if orow is None:
        target = out
        out = np.empty(shape, out.dtype)
        return _row_layout(x, out)[:8] + (target,)
    xs = _elem_strides(x)
    xrow = None if xs is None else _rows([shape[k] for k in lead], [xs[k] for k in lead])
    if xrow is None:
        # Only a layout no row walk fits is copied, into out's memory order.
        x = np.copy(x.transpose(perm), order="C").transpose(np.argsort(perm))
        xs = _elem_strides(x)
        xrow = _rows([shape[k] for k in lead], [xs[k] for k in lead])
    R, xrs = xrow
    _, ors = orow
    return x, out, R, C, xrs, xs[-1], ors, os_[-1], target


def _unary(op, x, rdt):
    """op applied elementwise to x (already rdt, or an integer dtype for relu),
    in a new array laid out as a ufunc would lay it out."""
    out = np.empty_like(x, dtype=rdt)
    if x.size:
        xs = _elem_strides(x)
        if xs is not None and xs == _elem_strides(out):
            # Same layout as out (out is contiguous): one flat walk.
            _k.unary(op, x, out, 1, x.size, 0, 1, 0, 1)
        else:
            # Rows along out's fastest axis: out is contiguous, so its rows
            # are too, and target is never needed.
            perm = sorted(range(x.ndim), key=lambda k: -out.strides[k])
            xa, oa, R, C, xrs, xcs, ors, ocs, _ = _row_layout(x.transpose(perm),
                                                              out.transpose(perm))
            _k.unary(op, xa, oa, R, C, xrs, xcs, ors, ocs)
    return out[()] if out.ndim == 0 else out


# --- activations --------------------------------------------------------------

def identity_function(x):
    """Return x unchanged (the output layer of a regression network)."""
    return x


def step_function(x):
    """1 where x > 0, else 0.

    Parameters
    ----------
    x : array_like, any shape, real

    Returns
    -------
    ndarray of the platform int (int64 on Linux), x's shape; a 0-d array for a
    scalar, as the book's ``np.array(x > 0, dtype=int)`` gives.
    """
    return np.array(np.asarray(x) > 0, dtype=np.int_)


def sigmoid(x):
    """1 / (1 + exp(-x)), elementwise, without overflow warnings.

    For x below about -709 (float64) or -88.7 (float32) exp(-x) overflows and
    the result is its limit 0, as in the book, but no warning is raised. NaN
    gives NaN, +inf gives 1, -inf gives 0.

    Parameters
    ----------
    x : array_like, any shape, bool, integer or float16/32/64

    Returns
    -------
    ndarray or NumPy scalar, x's shape, the float dtype np.exp(x) has
    (float16 for bool and 8-bit integers, float32 for 16-bit, float64 for
    wider); a NumPy scalar for a scalar or 0-d x.
    """
    out = _k.unary_c(_k.SIGMOID, x)
    if out is not None:
        return out
    x = _as_float(_real_array(x, "sigmoid", "x", negated=True))
    return _unary(_k.SIGMOID, x, x.dtype)


def sigmoid_grad(x):
    """(1 - sigmoid(x)) * sigmoid(x), elementwise: the derivative of sigmoid.

    Parameters
    ----------
    x : array_like, any shape, bool, integer or float16/32/64

    Returns
    -------
    ndarray or NumPy scalar, x's shape, dtype as :func:`sigmoid` gives.
    """
    out = _k.unary_c(_k.SIGMOID_GRAD, x)
    if out is not None:
        return out
    x = _as_float(_real_array(x, "sigmoid_grad", "x", negated=True))
    return _unary(_k.SIGMOID_GRAD, x, x.dtype)


def relu(x):
    """max(0, x), elementwise (``np.maximum(0, x)``; NaN and -0.0 pass through).

    Parameters
    ----------
    x : array_like, any shape, bool, integer or float16/32/64

    Returns
    -------
    ndarray or NumPy scalar, x's shape and dtype (bool gives the platform
    int, as ``np.maximum(0, x)`` does); a NumPy scalar for a scalar or 0-d x.
    """
    out = _k.unary_c(_k.RELU, x)
    if out is not None:
        return out
    x = _real_array(x, "relu", "x")
    kind = x.dtype.kind
    if kind == "b":
        out = x.astype(np.maximum(0, np.zeros(0, x.dtype)).dtype)
    elif kind == "u":
        out = x.copy(order="K")  # max(0, x) is x itself
    else:
        return _unary(_k.RELU, x, x.dtype)
    return out[()] if out.ndim == 0 else out


def relu_grad(x):
    """1 where x >= 0, else 0 (note >=, as the book); NaN gives 0.

    Parameters
    ----------
    x : array_like, any shape, bool, integer or float16/32/64

    Returns
    -------
    ndarray, x's shape and dtype (0-d for a scalar x: the book fills
    ``np.zeros_like(x)``, which is an array).
    """
    out = _k.unary_c(_k.RELU_GRAD, x)
    if out is not None:
        return out
    x = _real_array(x, "relu_grad", "x")
    if x.dtype.kind in "bu":
        return np.ones_like(x)  # every unsigned or bool value is >= 0
    out = _unary(_k.RELU_GRAD, x, x.dtype)
    return np.asarray(out) if np.ndim(out) == 0 else out


def softmax(x):
    """exp(x - max) / sum(exp(x - max)) along the last axis, for any ndim.

    Numerically stable: the row maximum is subtracted first. A row holding NaN
    or +inf gives NaN, as the book's code does.

    Parameters
    ----------
    x : array_like, shape (..., C), bool, integer or float16/32/64; C >= 1

    Returns
    -------
    ndarray, x's shape and memory order, the float dtype :func:`sigmoid`
    gives; a NumPy scalar (1.0, or NaN for a non-finite x) for a scalar x.
    """
    out = _k.softmax_c(x)
    if out is not None:
        return out
    x = _as_float(_real_array(x, "softmax", "x", negated=True))
    if x.ndim and x.shape[-1] == 0:
        raise ValueError("softmax: x has an empty last axis (shape %s); a row needs "
                         "at least one entry" % (x.shape,))
    out = np.empty_like(x)
    if out.size:
        xa, oa, R, C, xrs, xcs, ors, ocs, target = _row_layout(x, out)
        _k.softmax(xa, oa, R, C, xrs, xcs, ors, ocs)
        if target is not None:
            target[...] = oa
    return out[()] if out.ndim == 0 else out


# --- losses -------------------------------------------------------------------

def sum_squared_error(y, t):
    """0.5 * sum((y - t)**2) over all elements (a sum, not a mean).

    Parameters
    ----------
    y, t : array_like, the same shape (or shapes that broadcast, as y - t
        does; the broadcast operands are then materialised), real

    Returns
    -------
    NumPy float scalar of the dtype y - t has (float64 when both are
    integers, as the book's ``0.5 * np.sum(...)`` gives). Mixed float32 and
    float64 operands are combined inside the kernel, without a converted copy;
    strided and broadcast operands are read in place (copied only when their
    axes do not nest, as for a 3-D array sliced in its middle axis).
    """
    y_in, t_in = y, t
    y = _real_array(y, "sum_squared_error", "y")
    t = _real_array(t, "sum_squared_error", "t")
    weak = (int, float)
    rdt = np.result_type(y_in if type(y_in) in weak else y,
                         t_in if type(t_in) in weak else t)
    if rdt.kind != "f":
        rdt = np.dtype(np.float64)  # the book's 0.5 * sum of integers
    if y.dtype.kind != "f":
        y = y.astype(rdt)
    if t.dtype.kind != "f":
        t = t.astype(rdt)
    if y.shape != t.shape:
        try:
            y, t = np.broadcast_arrays(y, t)
        except ValueError:
            raise ValueError("sum_squared_error: y of shape %s and t of shape %s do not "
                             "match (nor broadcast)" % (y.shape, t.shape)) from None
    if y.size == 0:
        return rdt.type(0.0)  # the book's 0.5 * np.sum of nothing
    ys, ts = _elem_strides(y), _elem_strides(t)
    if ys is not None and ys == ts and (y.flags.c_contiguous or y.flags.f_contiguous):
        # One layout, contiguous: a single flat walk.
        total = _k.sse_sum(y, t, 1, y.size, 0, 1, 0, 1, rdt.itemsize)
    else:
        # Walk both as rows of y's fastest axis, in y's memory order (the sum
        # does not depend on the order but for rounding); broadcast operands
        # are walked with their zero strides, not materialised.
        if y.ndim == 0:
            y, t = y.reshape(1), t.reshape(1)
        perm = sorted(range(y.ndim), key=lambda k: -abs(y.strides[k]))
        y, t = y.transpose(perm), t.transpose(perm)
        (y, yrs, ycs), (t, trs, tcs) = _walk_rows(y), _walk_rows(t)
        total = _k.sse_sum(y, t, y.size // y.shape[-1] if y.size else 0, y.shape[-1],
                           yrs, ycs, trs, tcs, rdt.itemsize)
    return rdt.type(0.5 * total)


def _walk_rows(a):
    """(a, rs, cs): a (or, when its leading axes do not nest or it is
    misaligned, a C-ordered copy) with the element strides that walk it as
    rows of its last axis in C order of the leading axes."""
    s = _elem_strides(a)
    rows = None if s is None else _rows(a.shape[:-1], s[:-1])
    if rows is None:
        a = np.array(a, order="C")  # a fresh array is aligned and nests
        s = _elem_strides(a)
        rows = _rows(a.shape[:-1], s[:-1])
    return a, rows[1], s[-1]


# The Korean edition's text calls 0.5 * sum((y - t)**2) mean_squared_error; its
# code calls the same formula squared_error. Both names give the book's result.
mean_squared_error = sum_squared_error
squared_error = sum_squared_error


def _batch_loss(y, t, func, from_logits):
    """-sum_i log(p[i, label_i] + 1e-7) / N, p = y or softmax(y) by rows."""
    y = _as_float(_real_array(y, func, "y" if not from_logits else "X", negated=True))
    t = np.asarray(t)
    if y.ndim == 1:
        # The book treats a 1-D y as a batch of one.
        if t.size == y.size:
            t = t.reshape(1, t.size)
        elif t.size == 1:
            t = t.reshape(1)
        else:
            raise ValueError("%s: for a 1-D y of size %d, t must be one-hot of the same "
                             "size or a single class index; got t of shape %s"
                             % (func, y.size, t.shape))
        y = y.reshape(1, y.size)
    elif y.ndim != 2:
        raise ValueError("%s: y must be 1-D (one sample) or 2-D (batch, classes), got "
                         "shape %s" % (func, y.shape))
    N, C = y.shape
    if C == 0:
        raise ValueError("%s: y has no classes (shape %s)" % (func, y.shape))
    lab = _k.class_labels(y, t, func)
    if N == 0:
        return y.dtype.type(np.nan)  # the book's 0 / 0, without its warning
    y, ys = _k.kernel_view(y)
    total = _k.ce_sum(y, N, C, ys[0], ys[1], lab, from_logits)
    return y.dtype.type(-total / N)


def cross_entropy_error(y, t):
    """-sum(log(y[i, t_i] + 1e-7)) / N, the book's batch cross-entropy.

    Parameters
    ----------
    y : array_like, (C,) one sample or (N, C) a batch of probabilities;
        bool, integer or float16/32/64
    t : array_like, one-hot labels of y's shape (any numeric dtype; the class
        is the argmax of each row, first maximum, as np.argmax), or class
        indices: (N,) integers for a batch (a scalar when N is 1), one integer
        for a 1-D y; a negative index counts from the end, as in NumPy

    Returns
    -------
    NumPy float scalar of y's float dtype (as :func:`sigmoid` gives it). The
    book's ``+ 1e-7`` is kept, rounded to that dtype.

    Raises
    ------
    ValueError
        t's shape fits y neither way, or an index is not a class of y.
    TypeError
        index labels that are not integers.
    """
    return _batch_loss(y, t, "cross_entropy_error", False)


def softmax_loss(X, t):
    """cross_entropy_error(softmax(X), t) in one pass, without forming softmax(X).

    Parameters
    ----------
    X : array_like, (C,) or (N, C) scores
    t : array_like, one-hot (X's shape) or class indices, as for
        :func:`cross_entropy_error`

    Returns
    -------
    NumPy float scalar of X's float dtype; the same bits as
    ``cross_entropy_error(softmax(X), t)``.
    """
    return _batch_loss(X, t, "softmax_loss", True)
