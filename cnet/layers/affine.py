"""The fully connected layer: out = x·W + b (the book's ``Affine``)."""
import math

import numpy as np

from .. import _activation, _affine
from ..threads import dot
from ._check import real_array, forward_done

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_FLOAT = (_F32, _F64)
# (input dtype, weight dtype) pairs with a compiled path; NumPy computes each
# in the weights' dtype. A float64 input with float32 weights (computed in
# float64 by NumPy) goes to np.dot.
_COMPILED = {(_F32, _F64), (_F64, _F64), (_F32, _F32)}


# The gather kernels beat BLAS's dense product when fewer than this share of
# the inputs are non-zero (MNIST's pixels: about 0.19; ReLU outputs: about 0.5).
SPARSE_DENSITY = 0.25
# Rows sampled to estimate the share.
_SAMPLE_ROWS = 8
# Multiply-adds (rows x inputs x outputs) of one call of the compiled forward:
# a product over a whole data set is made in blocks of rows, so that Ctrl-C is
# answered between them (RELIABILITY.md). Blocks are whole multiples of the
# kernel's 16-row chunks, and each row is computed alone: the same bits.
_BLOCK_WORK = 1 << 27
_BLOCK_UNIT = 16


# Entries of the sampled rows from which comparing with zero first and
# counting the bools is faster than np.count_nonzero on the floats (the same
# count: NaN counts, -0.0 does not): 2.8 -> 1.4 us on 8 rows of 784.
_COMPARE_FIRST = 1024


def _mostly_zeros(x):
    """True when the first rows of x (N, I) are mostly zeros."""
    head = x[:_SAMPLE_ROWS]
    n = head.size
    if n == 0:
        return False
    return np.count_nonzero(head != 0 if n >= _COMPARE_FIRST else head) < SPARSE_DENSITY * n


def _compiled_ok(x, W, b):
    """True when the compiled kernels can read x (N, I), W and b in place."""
    return ((x.dtype, W.dtype) in _COMPILED and b.dtype == W.dtype
            and W.flags.c_contiguous and W.flags.aligned
            and b.flags.c_contiguous and b.flags.aligned
            and x.flags.aligned and (x.shape[1] <= 1 or x.strides[1] == x.itemsize)
            and x.strides[0] % x.itemsize == 0 and x.strides[0] >= 0)


class Affine:
    """out = x·W + b, for a batch x of any number of dimensions.

    x of shape (N, d1, d2, ...) is read as N rows of d1*d2*... features; its
    shape is restored for dx in backward.

    Parameters
    ----------
    W : ndarray, shape (I, O)
        Weights. Kept by reference: changing the caller's array in place (an
        optimizer's update) changes the layer's.
    b : ndarray, shape (O,)
        Bias, kept by reference as W.

    Attributes
    ----------
    W, b : the arrays given (they may be rebound, e.g. by ``load_params``).
    x : ndarray, shape (N, I)
        forward's input as rows.
    original_x_shape : tuple
        forward's input shape.
    dW, db : ndarray, shapes (I, O) and (O,)
        Gradients set by backward.
    """

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self._sparse = False
        # What forward checked: (x, W, b, W's shape, b's shape, W's dtype,
        # b's dtype, whether the compiled kernels can read them); backward
        # checks again only when one of them changed (a rebound W, say).
        self._checked = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def _check_params(self, where):
        W = real_array(self.W, where, "W")
        b = real_array(self.b, where, "b")
        if W.ndim != 2:
            raise ValueError("%s: W must be 2-D (inputs, outputs), got shape %s"
                             % (where, W.shape))
        if b.shape != (W.shape[1],):
            raise ValueError("%s: b has shape %s but W of shape %s needs (%d,)"
                             % (where, b.shape, W.shape, W.shape[1]))
        return W, b

    def forward(self, x):
        """out = x·W + b.

        Parameters
        ----------
        x : ndarray, shape (N, ...) with I features per row, real

        Returns
        -------
        ndarray, shape (N, O).
        """
        return self._forward(x, None)

    def _forward(self, x, relu):
        """forward(x), then relu.forward of it when relu (a Relu layer) is
        given: the bias, the ReLU and relu's mask in one pass over the product,
        in place (the product is nobody else's), with the same bits."""
        W, b = self._check_params("Affine.forward")
        x = real_array(x, "Affine.forward", "x")
        if x.ndim == 0:
            raise ValueError("Affine.forward: x must have a batch axis, got a scalar")
        self.original_x_shape = x.shape
        if x.ndim != 2:
            # Features counted from the shape, not -1: an empty batch reshapes too.
            x = x.reshape(x.shape[0], math.prod(x.shape[1:]))
        if x.shape[1] != W.shape[0]:
            raise ValueError("Affine.forward: x of shape %s has %d features per row but "
                             "W of shape %s expects %d"
                             % (self.original_x_shape, x.shape[1], W.shape, W.shape[0]))
        self.x = x
        compiled = _compiled_ok(x, W, b)
        self._checked = (x, W, b, W.shape, b.shape, W.dtype, b.dtype, compiled)
        self._sparse = compiled and _mostly_zeros(x)
        if not self._sparse:
            # Dense rows (hidden layers): BLAS's product is the faster one
            # (on one BLAS thread, split over cnet's: cnet.threads).
            out = dot(x, W)
            if relu is None:
                out += b
            elif out.dtype in _FLOAT and out.dtype == b.dtype and out.flags.c_contiguous:
                relu.mask = np.empty(out.shape, np.bool_)
                _activation.bias_relu_forward(out, b, relu.mask.view(np.uint8))
            else:
                out += b
                out = relu.forward(out)
            return out
        out = np.empty((x.shape[0], W.shape[1]), W.dtype)
        # The ReLU and its mask come out of the product's epilogue (same bits).
        mask = None if relu is None else np.empty(out.shape, np.bool_)
        # MNIST rows are mostly zeros: their rows of W are left out, which is
        # exact unless W holds inf or NaN (0 * inf is NaN in the book's product).
        skip_zeros = _affine.finite(W.reshape(-1))
        xs = x.strides[0] // x.itemsize
        N = x.shape[0]
        rows = max(_BLOCK_UNIT, _BLOCK_WORK // max(1, x.shape[1] * W.shape[1]))
        rows -= rows % _BLOCK_UNIT
        for start in range(0, N, rows):
            _affine.forward(x[start:start + rows], xs, W, b, out[start:start + rows],
                            skip_zeros,
                            None if mask is None else mask[start:start + rows].view(np.uint8))
        if relu is not None:
            relu.mask = mask
        return out

    def backward(self, dout):
        """dx = dout·Wᵀ (x's shape); dW = xᵀ·dout; db = sum of dout over rows.

        Parameters
        ----------
        dout : ndarray, shape (N, O)

        Returns
        -------
        ndarray, the shape of forward's x.
        """
        W, dout = self._grad_params(dout)
        return dot(dout, W.T).reshape(*self.original_x_shape)

    def _grad_params(self, dout):
        """Check dout; set dW = xᵀ·dout and db = column sums of dout; return
        (W, dout)."""
        forward_done(self.x, "Affine.backward")
        x, W, b = self.x, self.W, self.b
        seen = self._checked
        if (seen is not None and x is seen[0] and W is seen[1] and b is seen[2]
                and W.shape == seen[3] and b.shape == seen[4] and W.dtype is seen[5]
                and b.dtype is seen[6]):
            compiled = seen[7]  # forward's check still holds
        else:
            W, b = self._check_params("Affine.backward")
            compiled = self._sparse and _compiled_ok(x, W, b)
        dout = real_array(dout, "Affine.backward", "dout")
        if dout.shape != (x.shape[0], W.shape[1]):
            raise ValueError("Affine.backward: dout has shape %s, expected %s"
                             % (dout.shape, (x.shape[0], W.shape[1])))
        if (self._sparse and compiled and dout.dtype == W.dtype
                and dout.flags.c_contiguous and dout.flags.aligned):
            self.dW = np.empty(W.shape, W.dtype)
            self.db = np.empty(W.shape[1], W.dtype)
            # Zero inputs are left out unless dout holds inf or NaN (0 * inf).
            _affine.grad_w(x, x.strides[0] // x.itemsize, dout, self.dW, self.db,
                           _affine.finite(dout.reshape(-1)))
        else:
            self.dW = dot(x.T, dout)
            self.db = dout.sum(axis=0)
        return W, dout

    def _backward_params_only(self, dout):
        """dW and db as backward sets them, without dx: for a network's first
        layer, whose dx nobody reads."""
        self._grad_params(dout)

