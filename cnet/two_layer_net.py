"""The book's chapter-4 TwoLayerNet (``ch04/two_layer_net.py``) on compiled kernels.

Same constructor, same ``params`` dict, same methods and return types as the
book; ``predict``, ``loss``, ``accuracy`` and ``gradient`` run fused
Cython/OpenMP kernels (``cnet._two_layer``) and ``numerical_gradient`` the
incremental central difference of ``cnet._netgrad``.

Shapes: x (B, I) batch (a single sample (I,) is a batch of one where the book
allows it), t (B, O) one-hot or (B,) class indices, W1 (I, H), b1 (H,),
W2 (H, O), b2 (O,).
"""
import operator

import numpy as np

from . import _two_layer

__all__ = ["TwoLayerNet"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_PARAM_KEYS = ("W1", "b1", "W2", "b2")

# Rows converted at a time when x must be copied (another dtype, or no unit
# column stride): bounds the extra memory of predict and accuracy on a whole
# data set to CHUNK_ROWS rows.
CHUNK_ROWS = 1024


def _c_aligned(a, dtype):
    """a as a C-contiguous, aligned array of dtype in the machine's byte
    order; a copy only when a is not one already (np.ascontiguousarray keeps
    an unaligned view, such as np.frombuffer at an odd offset, as it is, and
    C may not read a double through a misaligned pointer)."""
    return np.require(a, dtype=dtype, requirements=("C", "A"))


def _size(value, name):
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int, got %s" % (name, type(value).__name__)) from None
    if n < 1:
        raise ValueError("%s must be >= 1, got %d" % (name, n))
    return n


class TwoLayerNet:
    """Two-layer network: affine, sigmoid, affine, softmax (the book's chapter 4).

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        I, H and O (784, 50, 10 for MNIST in the book).
    weight_init_std : float
        Scale of the Gaussian initial weights.
    dtype : {numpy.float64, numpy.float32}, keyword-only
        Dtype of the parameters. float64 (the default) is the book. float32 is
        a departure from the book for speed: the same random draws rounded to
        float32, and every kernel then computes in float32 (the book's NumPy
        code would mix in float64 through float64 labels).

    Attributes
    ----------
    params : dict of str to ndarray
        ``W1`` (I, H), ``b1`` (H,), ``W2`` (H, O), ``b2`` (O,). Initialised as the
        book does (``weight_init_std * np.random.randn`` for W1 then W2, zeros
        for the biases), so ``np.random.seed`` reproduces the book's weights
        bit for bit. Every method reads the dict afresh: updating the arrays in
        place, assigning new arrays or handing the dict to an optimizer all
        take effect on the next call.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 *, dtype=np.float64):
        input_size = _size(input_size, "input_size")
        hidden_size = _size(hidden_size, "hidden_size")
        output_size = _size(output_size, "output_size")
        dtype = np.dtype(dtype)
        if dtype not in _FLOATS:
            raise TypeError("dtype must be float32 or float64, got %s" % dtype)
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)
        if dtype != np.float64:
            for key in _PARAM_KEYS:
                self.params[key] = self.params[key].astype(dtype)

    # --- argument checking ------------------------------------------------

    def _weights(self, x_dtype):
        """(W1, b1, W2, b2, dtype): the current params, checked, C-contiguous,
        in the dtype the book's NumPy expressions would compute in."""
        # The arrays as the constructor made them (and as the book's update
        # ``params[key] -= lr * grad[key]`` keeps them): nothing to convert.
        got = _two_layer.params_as_made(self.params, x_dtype)
        if got is not None:
            return got
        params = self.params
        try:
            arrays = (params["W1"], params["b1"], params["W2"], params["b2"])
        except KeyError as e:
            raise KeyError("params has no %r" % e.args[0]) from None
        return self._weights_converted(arrays, x_dtype)

    @staticmethod
    def _weights_converted(arrays, x_dtype):
        """_weights for params of other types, dtypes or layouts."""
        checked = []
        for key, p in zip(_PARAM_KEYS, arrays):
            if not isinstance(p, np.ndarray):
                p = np.asarray(p)
            # either byte order: converted to the machine's below
            if p.dtype.newbyteorder("=") not in _FLOATS:
                raise TypeError("params[%r] must be float32 or float64, got %s"
                                % (key, p.dtype))
            checked.append(p)
        W1, b1, W2, b2 = checked
        if W1.ndim != 2 or W2.ndim != 2 or b1.ndim != 1 or b2.ndim != 1:
            raise ValueError(
                "params must be W1 (I, H), b1 (H,), W2 (H, O), b2 (O,); got shapes "
                "%s, %s, %s, %s" % (W1.shape, b1.shape, W2.shape, b2.shape))
        I, H = W1.shape
        O = W2.shape[1]
        if b1.shape[0] != H or W2.shape[0] != H or b2.shape[0] != O:
            raise ValueError(
                "params shapes do not agree: W1 %s, b1 %s, W2 %s, b2 %s"
                % (W1.shape, b1.shape, W2.shape, b2.shape))
        if I < 1 or H < 1 or O < 1:
            raise ValueError("params must have non-zero sizes, got W1 %s, W2 %s"
                             % (W1.shape, W2.shape))
        dtype = np.result_type(W1, b1, W2, b2, x_dtype).newbyteorder("=")
        if dtype not in _FLOATS:
            raise TypeError("x of dtype %s with float weights computes in %s; "
                            "only float32 and float64 are supported" % (x_dtype, dtype))
        W1, b1, W2, b2 = (_c_aligned(p, dtype) for p in checked)
        return W1, b1, W2, b2, dtype

    @staticmethod
    def _batch(x, name="x"):
        """x as an ndarray of a real numeric dtype."""
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError("%s must hold real numbers, got dtype %s" % (name, x.dtype))
        return x

    @staticmethod
    def _check_columns(x, I):
        if x.ndim != 2:
            raise ValueError("x must be a batch (B, I) or one sample (I,), got shape %s"
                             % (x.shape,))
        if x.shape[1] != I:
            raise ValueError("x has %d columns, W1 expects %d (x shape %s)"
                             % (x.shape[1], I, x.shape))

    @staticmethod
    def _kernel_ready(x, dtype):
        """True when the kernels can read x as it is (float32 with any weights,
        float64 with float64 weights, unit column stride, aligned)."""
        if x.dtype not in _FLOATS or (x.dtype == np.float64 and dtype != np.float64):
            return False
        if not x.flags.aligned:
            return False
        s0, s1 = x.strides
        return (x.shape[1] == 1 or s1 == x.itemsize) and s0 % x.itemsize == 0

    @classmethod
    def _ready(cls, x, dtype):
        """The whole batch in a form the kernels read (a copy only if needed)."""
        if cls._kernel_ready(x, dtype):
            return x
        xdt = x.dtype if x.dtype in _FLOATS and x.dtype.itemsize <= dtype.itemsize else dtype
        return _c_aligned(x, xdt)

    @classmethod
    def _chunks(cls, x, dtype):
        """(start, stop, rows) over x in a form the kernels read; when x must be
        converted, CHUNK_ROWS rows at a time, so memory stays bounded."""
        if cls._kernel_ready(x, dtype):
            yield 0, x.shape[0], x
            return
        for start in range(0, x.shape[0], CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, x.shape[0])
            yield start, stop, cls._ready(x[start:stop], dtype)

    @staticmethod
    def _class_indices(t, B, O, check_range=True):
        """Labels as (B,) intp class indices: one-hot rows (B, O) become their
        argmax as in the book's cross_entropy_error; index labels are checked."""
        t = np.asarray(t)
        if t.ndim == 2 and t.shape == (B, O):
            if t.dtype.kind not in "biuf":
                raise TypeError("t must hold numbers, got dtype %s" % t.dtype)
            return _c_aligned(np.argmax(t, axis=1), np.intp)
        if t.ndim == 1 and t.shape[0] == B:
            if t.dtype.kind not in "iu":
                raise TypeError("t: class indices must be integers, got dtype %s"
                                % t.dtype)
            if check_range and B and (t.min() < 0 or t.max() >= O):
                raise ValueError("t: class indices must lie in [0, %d), got [%d, %d]"
                                 % (O, t.min(), t.max()))
            return _c_aligned(t, np.intp)
        raise ValueError("t must be one-hot (%d, %d) or class indices (%d,), got shape %s"
                         % (B, O, B, t.shape))

    def _batch_and_labels(self, x, t, one_sample_ok):
        x = self._batch(x)
        W1, b1, W2, b2, dtype = self._weights(x.dtype)
        t = np.asarray(t)
        if one_sample_ok and x.ndim == 1:
            x = x.reshape(1, -1)
            if t.ndim <= 1 and t.size == W2.shape[1]:  # one one-hot row
                t = t.reshape(1, -1)
            elif t.size == 1:
                t = t.reshape(1)
        self._check_columns(x, W1.shape[0])
        return x, t, (W1, b1, W2, b2), dtype

    # --- the book's methods ----------------------------------------------------

    def predict(self, x):
        """Class probabilities ``softmax(sigmoid(x·W1 + b1)·W2 + b2)``.

        Parameters
        ----------
        x : array_like, (B, I) or (I,)
            Any real dtype; a float32 batch is read as is, never upcast.

        Returns
        -------
        y : ndarray, (B, O) or (O,), float64 (float32 for float32 weights and
            a float32 batch), as the book's NumPy expression would give.
        """
        x = self._batch(x)
        W1, b1, W2, b2, dtype = self._weights(x.dtype)
        one = x.ndim == 1
        if one:
            x = x.reshape(1, -1)
        self._check_columns(x, W1.shape[0])
        y = np.empty((x.shape[0], W2.shape[1]), dtype=dtype)
        for start, stop, rows in self._chunks(x, dtype):
            _two_layer.predict(rows, W1, b1, W2, b2, y[start:stop])
            del rows  # free this chunk before the next one is made
        return y[0] if one else y

    def loss(self, x, t):
        """The book's cross-entropy ``-sum(log(y[b, t_b] + 1e-7)) / B``.

        Parameters
        ----------
        x : array_like, (B, I) or (I,)
        t : array_like, one-hot (B, O) or class indices (B,)

        Returns
        -------
        numpy.float64 (numpy.float32 when computing in float32)
        """
        got = _two_layer.fast_loss(x, t, self.params)  # the book's usual arguments
        if got is not None:
            return got
        x, t, (W1, b1, W2, b2), dtype = self._batch_and_labels(x, t, True)
        t = self._class_indices(t, x.shape[0], W2.shape[1])
        if x.shape[0] == 0:
            raise ValueError("x must hold at least one row")
        return dtype.type(_two_layer.loss(self._ready(x, dtype), t, W1, b1, W2, b2))

    def accuracy(self, x, t):
        """Fraction of rows whose argmax of predict(x) equals the label.

        Parameters
        ----------
        x : array_like, (B, I); a whole data set is fine: it is never copied
            when float32/float64 with a unit column stride, else converted a
            few thousand rows at a time.
        t : array_like, one-hot (B, O) or class indices (B,)

        Returns
        -------
        numpy.float64, as the book's ``np.sum(y == t) / float(x.shape[0])``.
        """
        got = _two_layer.fast_accuracy(x, t, self.params)  # the book's usual arguments
        if got is not None:
            return got
        x = self._batch(x)
        W1, b1, W2, b2, dtype = self._weights(x.dtype)
        self._check_columns(x, W1.shape[0])
        B = x.shape[0]
        t = self._class_indices(t, B, W2.shape[1], check_range=False)
        if B == 0:
            raise ValueError("x must hold at least one row")
        count = 0
        for start, stop, rows in self._chunks(x, dtype):
            count += _two_layer.correct(rows, t[start:stop], W1, b1, W2, b2)
            del rows  # free this chunk before the next one is made
        return np.int64(count) / float(B)

    def gradient(self, x, t):
        """The book's backpropagation.

        Parameters
        ----------
        x : array_like, (B, I), B >= 1
        t : array_like, one-hot (B, O) (used as given: ``dy = (y - t) / B``) or
            class indices (B,)

        Returns
        -------
        dict
            ``W2``, ``b2``, ``W1``, ``b1`` (the book's order): new arrays shaped
            like the parameters, in the compute dtype.
        """
        got = _two_layer.fast_gradient(x, t, self.params)  # the book's usual arguments
        if got is not None:
            return got
        x, t, (W1, b1, W2, b2), dtype = self._batch_and_labels(x, t, False)
        B, O = x.shape[0], W2.shape[1]
        if B == 0:
            raise ValueError("x must hold at least one row")
        t = np.asarray(t)
        if t.ndim == 2 and t.shape == (B, O):
            if t.dtype.kind not in "biuf":
                raise TypeError("t must hold numbers, got dtype %s" % t.dtype)
            t_idx, t_dense = None, _c_aligned(t, dtype)
        else:
            t_idx, t_dense = self._class_indices(t, B, O), None
        grads = {"W2": np.empty_like(W2), "b2": np.empty_like(b2),
                 "W1": np.empty_like(W1), "b1": np.empty_like(b1)}
        _two_layer.gradient(self._ready(x, dtype), W1, b1, W2, b2, t_idx, t_dense,
                            grads["W1"], grads["b1"], grads["W2"], grads["b2"])
        return grads

    def numerical_gradient(self, x, t):
        """The book's numerical gradient: the central difference (h = 1e-4) of
        the book's loss for every parameter, computed incrementally by
        ``cnet._netgrad`` (only what a parameter reaches is re-evaluated).

        Parameters
        ----------
        x : array_like, (B, I) or (I,)
        t : array_like, one-hot (B, O) or class indices (B,)

        Returns
        -------
        dict
            ``W1``, ``b1``, ``W2``, ``b2``: new arrays shaped like the
            parameters, in the compute dtype.
        """
        from . import _netgrad

        x, t, (W1, b1, W2, b2), dtype = self._batch_and_labels(x, t, True)
        t = self._class_indices(t, x.shape[0], W2.shape[1])
        if x.shape[0] == 0:
            raise ValueError("x must hold at least one row")
        if x.dtype not in _FLOATS or not x.flags.c_contiguous or not x.flags.aligned:
            x = _c_aligned(x, x.dtype if x.dtype in _FLOATS else dtype)
        # checked above: the kernel entry that trusts its arguments
        gW1, gb1, gW2, gb2 = _netgrad.numerical_gradient_unchecked(x, t, W1, b1, W2, b2)
        return {"W1": gW1, "b1": gb1, "W2": gW2, "b2": gb2}
