"""The book's Convolution and Pooling layers (common/layers.py), compiled.

Convolution multiplies the filters by image patches as the book does, but a
chunk of images at a time: the patches of a chunk are unfolded (compiled
im2col, in the transposed (K, nb*P) layout) into a buffer small enough to stay
in cache, multiplied (cnet's compiled product on CPUs with AVX-512, NumPy's
BLAS elsewhere, on the calling thread), and the product is written to the
book's (N, FN, OH, OW) layout with the bias added by a compiled pass. dW's
product (a long sum over the chunk's columns) is NumPy's BLAS everywhere.
Backward unfolds each chunk again instead of keeping the
whole column matrix (which for the book's DeepConvNet would be 90 MB for one
layer). Pooling's max and its backward scatter are one compiled pass each.
In a network (cnet.layer_sequence), a ReLU, and a Pooling without padding
after it, are applied in the chunk's output pass while its product is still
in cache, so the convolution's full-size output is never written; backward
builds the chunk's gradient rows from the pooled gradient the same way.

Dimension letters: N images, C channels, H W input size, FN filters, FH FW
filter size, OH OW output size, P = OH*OW, K = C*FH*FW, nb images per chunk.

Data types: the layer computes in float64, as the book, unless its W is
float32 (the documented float32 option), then in float32. Inputs of another
type are converted one batch at a time.
"""
import numpy as np

from .. import _conv, _im2col, _pooling
from ..threads import OWN_PRODUCT, run_chunks as _run_chunks
from ..util import _conv_output_hw, _images, _as_size, im2col

__all__ = ["Convolution", "Pooling"]

# Bytes of one chunk's unfolded patches: small enough for one core's L2 cache
# (bench/PROFILE_conv.md).
CHUNK_BYTES = 1 << 20


def _blas_product(a, b, out):
    np.dot(a, b, out=out)


# The layer's three products (W·col forward; Wᵀ·dout for dx; dW, as dWᵀ =
# col·doutᵀ with cnet's kernel): cnet's own kernel where cnet.threads chose it
# (its AVX-512 path: 1.4-2.8x NumPy's OpenBLAS on the layers' shapes), NumPy's
# BLAS elsewhere (bench/PROFILE_conv.md). Both run on the calling thread; a
# module flag so that tests can run both branches.
_own_product = OWN_PRODUCT


def _compute_dtype(W):
    return np.float32 if W.dtype == np.float32 else np.float64


# The number of chunks is rounded up to a multiple of this, and the images
# shared out evenly among them, so that 2 or 4 threads taking chunks in turn
# get equal shares (12 chunks of 9, 9, ..., 1 images gave two threads 54 and
# 46 images; bench/PROFILE_conv.md).
CHUNK_GROUP = 4


def _chunk_images(N, K, P, itemsize):
    """Images per chunk at most; depends on the shapes only (never on the
    thread count), so results are the same for any number of threads."""
    per_image = max(1, K * P * itemsize)
    return int(max(1, min(N, CHUNK_BYTES // per_image)))


def _chunk_starts(N, K, P, itemsize):
    """First image of each chunk, and N last: at most _chunk_images per chunk,
    a multiple of CHUNK_GROUP chunks (N at most), sizes differing by one at
    most. Depends on the shapes only, as _chunk_images."""
    nchunks = -(-N // _chunk_images(N, K, P, itemsize))
    if nchunks == 0:  # an empty batch: no chunk
        return [0]
    if nchunks > 1:
        nchunks = min(N, -(-nchunks // CHUNK_GROUP) * CHUNK_GROUP)
    return [i * N // nchunks for i in range(nchunks + 1)]


def _buffer(buffers, name, size, dtype):
    """A 1-D scratch array of at least size elements, kept in buffers."""
    buf = buffers.get(name)
    if buf is None or buf.size < size or buf.dtype != dtype:
        buf = buffers[name] = np.empty(size, dtype=dtype)
    return buf[:size]


class Convolution:
    """Convolution layer: ``out[n, f] = sum over c, ky, kx of W[f, c, ky, kx] *
    x_padded[n, c, oy*stride + ky, ox*stride + kx] + b[f]``.

    Parameters
    ----------
    W : ndarray, (FN, C, FH, FW)
        Filters. Kept by reference (the network's ``params`` entry), read at
        every call; float32 W makes the layer compute in float32.
    b : ndarray (FN,) or scalar
        Bias, kept by reference.
    stride : int, >= 1
    pad : int, >= 0

    Attributes
    ----------
    x : the input of the last forward
    col : (N*OH*OW, K) float64, the book's im2col of ``x`` (computed when read)
    col_W : (K, FN) view of W, as the book's
    dW : (FN, C, FH, FW), db : (FN,) after backward
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = _as_size(stride, "stride", 1)
        self.pad = _as_size(pad, "pad", 0)
        self.x = None
        self.dW = None
        self.db = None
        self._x = None       # x as computed on: contiguous rows, compute dtype
        self._out = None     # the output, when ReLU was fused into forward
        self._pool = None    # (pool_h, pool_w, stride, argmax) when pooling was too

    @property
    def col(self):
        if self.x is None:
            return None
        FN, C, FH, FW = np.shape(self.W)
        return im2col(self.x, FH, FW, self.stride, self.pad)

    @property
    def col_W(self):
        return np.reshape(self.W, (np.shape(self.W)[0], -1)).T

    def _weights(self, dtype):
        W = np.asarray(self.W)
        if W.ndim != 4:
            raise ValueError("Convolution: W must have 4 dimensions (FN, C, FH, FW), "
                             "got shape %s" % (W.shape,))
        FN = W.shape[0]
        W2d = np.require(W.reshape(FN, -1), dtype, "CA")  # the product loads aligned elements
        b = np.asarray(self.b, dtype=dtype)
        if b.size not in (1, FN) or b.ndim > 1:
            raise ValueError("Convolution: b must have shape (%d,) or be a scalar, got "
                             "shape %s" % (FN, b.shape))
        return W, W2d, np.require(np.broadcast_to(b.reshape(-1), (FN,)), dtype,
                                  ("C", "A"))

    def forward(self, x):
        """x (N, C, H, W) -> out (N, FN, OH, OW)."""
        return self._forward(x, False)

    def _forward(self, x, relu, pool=None):
        """forward, with the ReLU that follows fused when ``relu``, and also
        the max pooling after it when ``pool`` (a Pooling layer without
        padding) is given: the output is then the pooled one."""
        dtype = _compute_dtype(np.asarray(self.W))
        W, W2d, b = self._weights(dtype)
        FN, C, FH, FW = W.shape
        xc = _images(x, "x", dtype)
        N, Cx, H, Wd = xc.shape
        if Cx != C:
            raise ValueError("Convolution: x has %d channels but W expects %d "
                             "(x shape %s, W shape %s)" % (Cx, C, xc.shape, W.shape))
        OH, OW = _conv_output_hw(H, Wd, FH, FW, self.stride, self.pad)
        P, K = OH * OW, C * FH * FW
        if pool is not None:
            PH, PW = _conv_output_hw(OH, OW, pool.pool_h, pool.pool_w, pool.stride, 0,
                                     what="pool")
            out = np.empty((N, FN, PH, PW), dtype=dtype)
            argmax = np.empty((N, FN, PH * PW), dtype=np.int32)
        else:
            out = np.empty((N, FN, OH, OW), dtype=dtype)
        out3 = out.reshape(N, FN, out.shape[2] * out.shape[3])
        starts = _chunk_starts(N, K, P, xc.itemsize)
        product = _conv.gemm if _own_product else _blas_product

        def chunk(i, buffers):
            n0, m = starts[i], starts[i + 1] - starts[i]
            colT = _buffer(buffers, "col", K * m * P, dtype).reshape(K, m * P)
            outT = _buffer(buffers, "out", FN * m * P, dtype).reshape(FN, m * P)
            _im2col.im2col_into(xc[n0:n0 + m], FH, FW, self.stride, self.pad, colT, True, 1)
            product(W2d, colT, outT)
            if pool is None:
                _conv.bias_out(outT, b, out3[n0:n0 + m], relu, 1)
            else:
                # The convolution's output never leaves the chunk's buffer.
                _pooling.conv_rows_forward(outT, b, OH, OW, pool.pool_h, pool.pool_w,
                                           pool.stride, out3[n0:n0 + m],
                                           argmax[n0:n0 + m], 1)

        _run_chunks(chunk, len(starts) - 1)
        self.x = x
        self._x = xc
        self._out = out if relu else None
        self._pool = None if pool is None else (pool.pool_h, pool.pool_w, pool.stride,
                                                argmax)
        return out

    def backward(self, dout):
        """dout (N, FN, OH, OW) -> dx (N, C, H, W); sets dW and db."""
        return self._backward(dout, True)

    def _backward(self, dout, need_dx):
        if self._x is None:
            raise RuntimeError("Convolution.backward called before forward")
        xc = self._x
        dtype = xc.dtype
        W, W2d, _ = self._weights(dtype)
        FN, C, FH, FW = W.shape
        N, _, H, Wd = xc.shape
        OH, OW = _conv_output_hw(H, Wd, FH, FW, self.stride, self.pad)
        P, K = OH * OW, C * FH * FW
        dout = np.asarray(dout)
        expected = self._out.shape if self._pool is not None else (N, FN, OH, OW)
        if dout.shape != expected:
            raise ValueError("Convolution: dout must have shape %s, got %s"
                             % (expected, dout.shape))
        Q = expected[2] * expected[3]
        dc = np.require(dout, dtype, ("C", "A")).reshape(N, FN, Q)
        # With a ReLU fused into forward, its backward (dout = 0 where the
        # output is <= 0) is fused into the transposition of dout (with the
        # pooling's, when that was fused too).
        relu_out = None if self._out is None else self._out.reshape(N, FN, Q)
        starts = _chunk_starts(N, K, P, xc.itemsize)
        nchunks = len(starts) - 1
        # Per-chunk partial sums, added in chunk order below: the same bits
        # whichever thread computed which chunk.
        own = _own_product
        product = _conv.gemm if own else _blas_product
        # cnet's kernel sums over the columns of its second factor's rows:
        # it makes dWᵀ = col·doutᵀ, BLAS dW = dout·colᵀ.
        dW_parts = np.empty((nchunks, K, FN) if own else (nchunks, FN, K), dtype=dtype)
        # -0.0 is the identity of IEEE addition: each part is a plain sum.
        db_parts = np.full((nchunks, FN), -0.0, dtype=dtype)
        dx = np.empty((N, C, H, Wd), dtype=dtype) if need_dx else None
        W2dT = np.ascontiguousarray(W2d.T) if need_dx else None

        def chunk(i, buffers):
            n0, m = starts[i], starts[i + 1] - starts[i]
            colT = _buffer(buffers, "col", K * m * P, dtype).reshape(K, m * P)
            doutT = _buffer(buffers, "dout", FN * m * P, dtype).reshape(FN, m * P)
            _im2col.im2col_into(xc[n0:n0 + m], FH, FW, self.stride, self.pad, colT, True, 1)
            if self._pool is None:
                _conv.dout_rows(dc[n0:n0 + m], doutT,
                                None if relu_out is None else relu_out[n0:n0 + m], 1)
            else:
                ph, pw, ps, argmax = self._pool
                scratch = _buffer(buffers, "masked", FN * Q, dtype).reshape(FN, Q)
                _pooling.conv_rows_backward(dc[n0:n0 + m], argmax[n0:n0 + m],
                                            relu_out[n0:n0 + m], OH, OW, ph, pw, ps,
                                            doutT, scratch, 1)
            _conv.row_sums(doutT, db_parts[i], 1)
            if own:
                doutN = _buffer(buffers, "doutN", m * P * FN, dtype).reshape(m * P, FN)
                np.copyto(doutN, doutT.T)
                product(colT, doutN, dW_parts[i])
            else:
                np.dot(doutT, colT.T, out=dW_parts[i])
            if need_dx:
                dcolT = _buffer(buffers, "dcol", K * m * P, dtype).reshape(K, m * P)
                product(W2dT, doutT, dcolT)
                _im2col.col2im_into(dcolT, FH, FW, self.stride, self.pad,
                                    dx[n0:n0 + m], True, 1)

        _run_chunks(chunk, nchunks)
        dW, db = dW_parts[0], db_parts[0]
        for i in range(1, nchunks):
            dW += dW_parts[i]
            db += db_parts[i]
        if own:
            dW = np.ascontiguousarray(dW.T)
        self.dW = dW.reshape(FN, C, FH, FW)
        self.db = db
        return dx


class Pooling:
    """Max pooling over pool_h x pool_w windows, as the book's Pooling
    (padding cells count as zeros, as in the book's im2col).

    Parameters
    ----------
    pool_h, pool_w : int, >= 1
    stride : int, >= 1
    pad : int, >= 0

    Attributes
    ----------
    x : the input of the last forward
    arg_max : (N*OH*OW*C,) intp, window index of each maximum in the book's
        order (computed when read)

    Notes
    -----
    float32 input gives float32 output (the book converts to float64; the
    values are the same, a maximum is exact); any other input is computed in
    float64 as the book.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h = _as_size(pool_h, "pool_h", 1)
        self.pool_w = _as_size(pool_w, "pool_w", 1)
        self.stride = _as_size(stride, "stride", 1)
        self.pad = _as_size(pad, "pad", 0)
        self.x = None
        self._argmax = None
        self._relu_mask_of = None  # input to check > 0 in backward (fused ReLU)

    @property
    def arg_max(self):
        if self._argmax is None:
            return None
        return self._argmax.transpose(0, 2, 3, 1).ravel().astype(np.intp)

    def forward(self, x):
        """x (N, C, H, W) -> out (N, C, OH, OW)."""
        x = np.asarray(x)
        dtype = np.float32 if x.dtype == np.float32 else np.float64
        xc = _images(x, "x", dtype)
        N, C, H, W = xc.shape
        OH, OW = _conv_output_hw(H, W, self.pool_h, self.pool_w, self.stride, self.pad,
                                 what="pool")
        out = np.empty((N, C, OH, OW), dtype=dtype)
        argmax = np.empty((N, C, OH, OW), dtype=np.int32)
        starts = _chunk_starts(N, C, H * W, xc.itemsize)

        def chunk(i, buffers):
            n0, n1 = starts[i], starts[i + 1]
            _pooling.forward(xc[n0:n1], self.pool_h, self.pool_w, self.stride, self.pad,
                             out[n0:n1], argmax[n0:n1], 1)

        _run_chunks(chunk, len(starts) - 1, blas=False)
        self.x = x
        self._argmax = argmax
        self._dtype = dtype
        return out

    def backward(self, dout):
        """dout (N, C, OH, OW) -> dx (N, C, H, W)."""
        if self._argmax is None:
            raise RuntimeError("Pooling.backward called before forward")
        argmax = self._argmax
        dout = np.asarray(dout)
        if dout.size != argmax.size:
            raise ValueError("Pooling: dout must have shape %s, got %s"
                             % (argmax.shape, dout.shape))
        dc = np.require(dout, self._dtype, ("C", "A")).reshape(argmax.shape)
        N, C, H, W = self.x.shape
        dx = np.empty((N, C, H, W), dtype=self._dtype)
        starts = _chunk_starts(N, C, H * W, dx.itemsize)

        def chunk(i, buffers):
            n0, n1 = starts[i], starts[i + 1]
            _pooling.backward(dc[n0:n1], argmax[n0:n1], self.pool_h, self.pool_w,
                              self.stride, self.pad, dx[n0:n1], 1)

        _run_chunks(chunk, len(starts) - 1, blas=False)
        return dx
