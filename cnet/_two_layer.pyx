# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled TwoLayerNet kernels (private; the public API is cnet.two_layer_net).

Every function takes the batch ``x`` (B, I) with a unit column stride (any row
stride), the parameters W1 (I, H), b1 (H,), W2 (H, O), b2 (O,) C-contiguous and
of one float type, and class indices ``t`` (B,) intp already checked to lie in
[0, O). The caller (cnet.two_layer_net) validates shapes and dtypes; these
functions trust them. A float32 batch meets float64 weights inside the kernel.
Supported (x, weight) pairs: (float32, float32), (float32, float64),
(float64, float64).
"""
from cpython.exc cimport PyErr_CheckSignals
from libc.math cimport isnan
from libc.stdlib cimport malloc, free
from libc.string cimport memset

import numpy as np

from cnet._config cimport cnet_threads_for

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)

ctypedef fused xfloat:
    float
    double

ctypedef fused wfloat:
    float
    double

cdef extern from "two_layer.h" nogil:
    size_t tl_forward_scratch_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                                    int nthreads)
    size_t tl_gradient_scratch_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                                     int nthreads)
    size_t tl_forward_scratch_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                                    int nthreads)
    size_t tl_gradient_scratch_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                                     int nthreads)
    size_t tl_forward_scratch_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                                    int nthreads)
    size_t tl_gradient_scratch_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                                     int nthreads)
    void tl_predict_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const float *x, Py_ssize_t ldx, const float *W1,
                          const float *b1, const float *W2, const float *b2,
                          float *y, int nthreads, void *scratch)
    void tl_predict_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const float *x, Py_ssize_t ldx, const double *W1,
                          const double *b1, const double *W2, const double *b2,
                          double *y, int nthreads, void *scratch)
    void tl_predict_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const double *x, Py_ssize_t ldx, const double *W1,
                          const double *b1, const double *W2, const double *b2,
                          double *y, int nthreads, void *scratch)
    void tl_loss_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                       const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                       const float *W1, const float *b1, const float *W2,
                       const float *b2, float *loss, int nthreads, void *scratch)
    void tl_loss_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                       const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                       const double *W1, const double *b1, const double *W2,
                       const double *b2, double *loss, int nthreads, void *scratch)
    void tl_loss_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                       const double *x, Py_ssize_t ldx, const Py_ssize_t *t,
                       const double *W1, const double *b1, const double *W2,
                       const double *b2, double *loss, int nthreads, void *scratch)
    void tl_correct_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                          const float *W1, const float *b1, const float *W2,
                          const float *b2, Py_ssize_t *count, int nthreads, void *scratch)
    void tl_correct_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                          const double *W1, const double *b1, const double *W2,
                          const double *b2, Py_ssize_t *count, int nthreads, void *scratch)
    void tl_correct_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const double *x, Py_ssize_t ldx, const Py_ssize_t *t,
                          const double *W1, const double *b1, const double *W2,
                          const double *b2, Py_ssize_t *count, int nthreads, void *scratch)
    void tl_gradient_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                           const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                           const float *t_dense, const float *W1, const float *b1,
                           const float *W2, const float *b2, float *gW1, float *gb1,
                           float *gW2, float *gb2, int nthreads, void *scratch)
    void tl_gradient_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                           const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                           const double *t_dense, const double *W1, const double *b1,
                           const double *W2, const double *b2, double *gW1,
                           double *gb1, double *gW2, double *gb2, int nthreads, void *scratch)
    void tl_gradient_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                           const double *x, Py_ssize_t ldx, const Py_ssize_t *t,
                           const double *t_dense, const double *W1, const double *b1,
                           const double *W2, const double *b2, double *gW1,
                           double *gb1, double *gW2, double *gb2, int nthreads, void *scratch)

# Rows per thread below which a second thread costs more than it saves: one
# row of MNIST is ~150 non-zero inputs times H multiply-adds.
# After two_layer.h: NumPy's headers bring in complex.h, whose macro I would
# clash with the dimension names there.
cimport numpy as cnp

cnp.import_array()

cdef enum:
    ROWS_PER_THREAD = 16

# The kernels list input and batch-row indices as int32.
cdef Py_ssize_t MAX_INDEX = 2**31 - 16


cdef enum:
    SHAPES_OK, BAD_SIZES, TOO_MANY_INPUTS, SHAPES_DISAGREE, BAD_COL_STRIDE, BAD_ROW_STRIDE


cdef int _shape_problem(Py_ssize_t I, Py_ssize_t H, Py_ssize_t O, Py_ssize_t x_cols,
                        Py_ssize_t x_stride0, Py_ssize_t x_stride1, Py_ssize_t x_item,
                        Py_ssize_t b1_n, Py_ssize_t W2_rows, Py_ssize_t b2_n) noexcept:
    """SHAPES_OK when the shapes agree and x's strides suit the kernels (so no
    kernel reads out of bounds), else what is wrong."""
    if I < 1 or H < 1 or O < 1:
        return BAD_SIZES
    if I > MAX_INDEX:
        return TOO_MANY_INPUTS
    if x_cols != I or b1_n != H or W2_rows != H or b2_n != O:
        return SHAPES_DISAGREE
    if x_cols > 1 and x_stride1 != x_item:
        return BAD_COL_STRIDE
    if x_stride0 % x_item:
        return BAD_ROW_STRIDE
    return SHAPES_OK


cdef Py_ssize_t _checked(Py_ssize_t I, Py_ssize_t H, Py_ssize_t O, Py_ssize_t x_cols,
                         Py_ssize_t x_stride0, Py_ssize_t x_stride1, Py_ssize_t x_item,
                         Py_ssize_t b1_n, Py_ssize_t W2_rows, Py_ssize_t b2_n,
                         bint x_is_double, bint w_is_double) except -1:
    """Raise unless the shapes agree (_shape_problem); return ldx."""
    if x_is_double and not w_is_double:
        raise TypeError("a float64 batch needs float64 weights")
    cdef int problem = _shape_problem(I, H, O, x_cols, x_stride0, x_stride1, x_item, b1_n,
                                      W2_rows, b2_n)
    if problem == BAD_SIZES:
        raise ValueError("input, hidden and output sizes must be >= 1")
    if problem == TOO_MANY_INPUTS:
        raise ValueError("input size %d is too large (at most %d)" % (I, MAX_INDEX))
    if problem == SHAPES_DISAGREE:
        raise ValueError("x, W1, b1, W2, b2 shapes do not agree")
    if problem == BAD_COL_STRIDE:
        raise ValueError("x must have a unit column stride")
    if problem == BAD_ROW_STRIDE:
        raise ValueError("x: row stride is not a multiple of the item size")
    return x_stride0 // x_item


cdef inline int _check_batch(Py_ssize_t B) except -1:
    if B > MAX_INDEX:
        raise ValueError("batch of %d rows is too large (at most %d)" % (B, MAX_INDEX))
    return 0


# --- scratch kept from call to call ------------------------------------------
#
# The kernels take their scratch memory from the caller (two_layer.h): about
# 1 MB for a 100-image gradient. Allocated and freed on each call it was handed
# back to the system and faulted in again every time, and the gradient took
# 4x longer. One block is kept here: taken and given back with the GIL held,
# so no two threads share it (a call that finds it taken allocates its own);
# kept only up to KEEP_BYTES, so one very large batch does not hold its scratch
# for the life of the process. (This relies on the GIL: the module does not
# declare itself free-threading safe, so a free-threaded CPython turns the GIL
# back on when it imports it.)
cdef size_t KEEP_BYTES = 16 << 20
cdef void *_kept = NULL
cdef size_t _kept_bytes = 0


cdef void *_take_scratch(size_t need, size_t *got) except NULL:
    """A block of at least need bytes (the kept one when it is free and large
    enough); its size in got. Give it back with _give_scratch."""
    global _kept, _kept_bytes
    cdef void *p = _kept
    cdef size_t have = _kept_bytes
    _kept = NULL
    _kept_bytes = 0
    if p != NULL and have >= need:
        got[0] = have
        return p
    free(p)
    p = malloc(need)
    if p == NULL:
        raise MemoryError("TwoLayerNet: out of memory for %d bytes of scratch" % need)
    got[0] = need
    return p


cdef void _give_scratch(void *p, size_t size) noexcept:
    """Keep p (size bytes, from _take_scratch) for the next call, or free it."""
    global _kept, _kept_bytes
    if _kept == NULL and size <= KEEP_BYTES:
        _kept = p
        _kept_bytes = size
    else:
        free(p)


def _kept_scratch(fill=None):
    """Bytes of the scratch block kept for the next call (0 when none). With
    fill (0-255), every byte of the block is first set to it: the tests fill it
    with NaN bytes to show that no kernel reads scratch it has not written."""
    if fill is not None and _kept != NULL:
        memset(_kept, <int>fill, _kept_bytes)
    return _kept_bytes


cdef size_t _scratch_bytes(bint gradient, bint x64, bint w64, Py_ssize_t B, Py_ssize_t I,
                          Py_ssize_t H, Py_ssize_t O, int nt) noexcept:
    """Scratch bytes of gradient (tl_gradient_scratch) when gradient, else of
    predict, loss and correct (tl_forward_scratch)."""
    if gradient and not w64:
        return tl_gradient_scratch_xf_wf(B, I, H, O, nt)
    if gradient and x64:
        return tl_gradient_scratch_xd_wd(B, I, H, O, nt)
    if gradient:
        return tl_gradient_scratch_xf_wd(B, I, H, O, nt)
    if not w64:
        return tl_forward_scratch_xf_wf(B, I, H, O, nt)
    if x64:
        return tl_forward_scratch_xd_wd(B, I, H, O, nt)
    return tl_forward_scratch_xf_wd(B, I, H, O, nt)


cdef inline int _check_t(Py_ssize_t B, Py_ssize_t tn) except -1:
    if tn != B:
        raise ValueError("t must hold one label per row of x")
    return 0


# --- blocks of rows, for Ctrl-C ----------------------------------------------
#
# predict and correct over a whole data set (accuracy over 60,000 images of a
# wide network takes seconds) run block by block, with a look for Ctrl-C
# (PyErr_CheckSignals) between blocks. A block is about BLOCK_WORK
# multiply-adds (a few ms on one core) in whole chunks of the kernels' 16
# rows; each row is computed alone, so the bits are those of one call
# (tests/test_reliability_ctrl_c.py). The last block takes the remainder.
cdef Py_ssize_t BLOCK_WORK = 1 << 25
cdef Py_ssize_t BLOCK_MIN_ROWS = 16


cdef Py_ssize_t _block_rows(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O) noexcept:
    """Rows of each block but the last (B: one block)."""
    cdef Py_ssize_t rows = BLOCK_WORK // (I * H + H * O)
    if rows < BLOCK_MIN_ROWS:
        rows = BLOCK_MIN_ROWS
    rows -= rows % 16
    return rows if B >= 2 * rows else B


cdef inline Py_ssize_t _largest_block(Py_ssize_t B, Py_ssize_t rows) noexcept:
    """Rows of the largest block (the last) of B rows in blocks of rows."""
    return B - (B // rows - 1) * rows


cdef void *_take_block_scratch(size_t extra, bint x64, bint w64, Py_ssize_t B,
                               Py_ssize_t rows, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                               int *nt, size_t *got) except NULL:
    """Scratch for a forward pass over B rows in blocks of rows (extra bytes
    first, then the kernel's), and in nt the threads for one block."""
    nt[0] = cnet_threads_for(rows, ROWS_PER_THREAD)
    return _take_scratch(extra + _scratch_bytes(False, x64, w64, _largest_block(B, rows),
                                                I, H, O, nt[0]), got)


def predict(const xfloat[:, :] x not None, const wfloat[:, ::1] W1 not None,
            const wfloat[::1] b1 not None, const wfloat[:, ::1] W2 not None,
            const wfloat[::1] b2 not None, wfloat[:, ::1] y not None):
    """y OUT = softmax(sigmoid(x·W1 + b1)·W2 + b2).

    Parameters
    ----------
    x : (B, I) float32 or float64, unit column stride, IN
    W1, b1, W2, b2 : (I, H), (H,), (H, O), (O,) C-contiguous weights, IN
    y : (B, O) C-contiguous, the weights' dtype, OUT
    """
    cdef Py_ssize_t B = x.shape[0], I = W1.shape[0], H = W1.shape[1], O = W2.shape[1]
    cdef Py_ssize_t ldx = _checked(I, H, O, x.shape[1], x.strides[0], x.strides[1],
                                   sizeof(xfloat), b1.shape[0], W2.shape[0],
                                   b2.shape[0], xfloat is double, wfloat is double)
    cdef void *scr
    cdef size_t got
    cdef int nt  # threads for one block
    _check_batch(B)
    if y.shape[0] != B or y.shape[1] != O:
        raise ValueError("y must have shape (B, O)")
    if B == 0:
        return
    cdef Py_ssize_t rows = _block_rows(B, I, H, O), s = 0, r
    scr = _take_block_scratch(0, xfloat is double, wfloat is double, B, rows, I, H, O,
                              &nt, &got)
    try:
        while s < B:
            r = rows if B - s >= 2 * rows else B - s
            with nogil:
                if xfloat is float and wfloat is float:
                    tl_predict_xf_wf(r, I, H, O, &x[s, 0], ldx, &W1[0, 0], &b1[0],
                                     &W2[0, 0], &b2[0], &y[s, 0], nt, scr)
                elif xfloat is float and wfloat is double:
                    tl_predict_xf_wd(r, I, H, O, &x[s, 0], ldx, &W1[0, 0], &b1[0],
                                     &W2[0, 0], &b2[0], &y[s, 0], nt, scr)
                elif xfloat is double and wfloat is double:
                    tl_predict_xd_wd(r, I, H, O, &x[s, 0], ldx, &W1[0, 0], &b1[0],
                                     &W2[0, 0], &b2[0], &y[s, 0], nt, scr)
            s += r
            if s < B:
                PyErr_CheckSignals()
    finally:
        _give_scratch(scr, got)


def loss(const xfloat[:, :] x not None, const Py_ssize_t[::1] t not None,
         const wfloat[:, ::1] W1 not None, const wfloat[::1] b1 not None,
         const wfloat[:, ::1] W2 not None, const wfloat[::1] b2 not None):
    """The book's cross-entropy loss of predict(x) against class indices t.

    Parameters
    ----------
    x : (B, I) float32 or float64, unit column stride, B >= 1, IN
    t : (B,) intp class indices in [0, O), IN
    W1, b1, W2, b2 : (I, H), (H,), (H, O), (O,) C-contiguous weights, IN

    Returns
    -------
    float
        ``-sum(log(y[b, t[b]] + 1e-7)) / B`` computed in the weights' dtype.
    """
    cdef Py_ssize_t B = x.shape[0], I = W1.shape[0], H = W1.shape[1], O = W2.shape[1]
    cdef Py_ssize_t ldx = _checked(I, H, O, x.shape[1], x.strides[0], x.strides[1],
                                   sizeof(xfloat), b1.shape[0], W2.shape[0],
                                   b2.shape[0], xfloat is double, wfloat is double)
    cdef void *scr
    cdef size_t got
    cdef int nt = cnet_threads_for(B, ROWS_PER_THREAD)
    _check_batch(B)
    cdef wfloat out = 0
    _check_t(B, t.shape[0])
    if B == 0:
        raise ValueError("x must hold at least one row")
    scr = _take_scratch(_scratch_bytes(False, xfloat is double, wfloat is double, B, I, H, O,
                                       nt), &got)
    with nogil:
        if xfloat is float and wfloat is float:
            tl_loss_xf_wf(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0], &b1[0],
                          &W2[0, 0], &b2[0], &out, nt, scr)
        elif xfloat is float and wfloat is double:
            tl_loss_xf_wd(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0], &b1[0],
                          &W2[0, 0], &b2[0], &out, nt, scr)
        elif xfloat is double and wfloat is double:
            tl_loss_xd_wd(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0], &b1[0],
                          &W2[0, 0], &b2[0], &out, nt, scr)
    _give_scratch(scr, got)
    return out


def correct(const xfloat[:, :] x not None, const Py_ssize_t[::1] t not None,
            const wfloat[:, ::1] W1 not None, const wfloat[::1] b1 not None,
            const wfloat[:, ::1] W2 not None, const wfloat[::1] b2 not None):
    """Number of rows whose argmax(predict(x)) equals t.

    Parameters
    ----------
    x : (B, I) float32 or float64, unit column stride, IN
    t : (B,) intp class indices, IN
    W1, b1, W2, b2 : (I, H), (H,), (H, O), (O,) C-contiguous weights, IN

    Returns
    -------
    int
    """
    cdef Py_ssize_t B = x.shape[0], I = W1.shape[0], H = W1.shape[1], O = W2.shape[1]
    cdef Py_ssize_t ldx = _checked(I, H, O, x.shape[1], x.strides[0], x.strides[1],
                                   sizeof(xfloat), b1.shape[0], W2.shape[0],
                                   b2.shape[0], xfloat is double, wfloat is double)
    cdef void *scr
    cdef size_t got
    cdef int nt  # threads for one block
    _check_batch(B)
    cdef Py_ssize_t count = 0
    _check_t(B, t.shape[0])
    if B == 0:
        return 0
    cdef Py_ssize_t rows = _block_rows(B, I, H, O), s = 0, r, n
    scr = _take_block_scratch(0, xfloat is double, wfloat is double, B, rows, I, H, O,
                              &nt, &got)
    try:
        while s < B:
            r = rows if B - s >= 2 * rows else B - s
            with nogil:
                if xfloat is float and wfloat is float:
                    tl_correct_xf_wf(r, I, H, O, &x[s, 0], ldx, &t[s], &W1[0, 0],
                                     &b1[0], &W2[0, 0], &b2[0], &n, nt, scr)
                elif xfloat is float and wfloat is double:
                    tl_correct_xf_wd(r, I, H, O, &x[s, 0], ldx, &t[s], &W1[0, 0],
                                     &b1[0], &W2[0, 0], &b2[0], &n, nt, scr)
                elif xfloat is double and wfloat is double:
                    tl_correct_xd_wd(r, I, H, O, &x[s, 0], ldx, &t[s], &W1[0, 0],
                                     &b1[0], &W2[0, 0], &b2[0], &n, nt, scr)
            count += n
            s += r
            if s < B:
                PyErr_CheckSignals()
    finally:
        _give_scratch(scr, got)
    return count


def gradient(const xfloat[:, :] x not None, const wfloat[:, ::1] W1 not None,
             const wfloat[::1] b1 not None, const wfloat[:, ::1] W2 not None,
             const wfloat[::1] b2 not None, const Py_ssize_t[::1] t,
             const wfloat[:, ::1] t_dense, wfloat[:, ::1] gW1 not None,
             wfloat[::1] gb1 not None, wfloat[:, ::1] gW2 not None,
             wfloat[::1] gb2 not None):
    """The book's backpropagation through the network.

    Parameters
    ----------
    x : (B, I) float32 or float64, unit column stride, B >= 1, IN
    W1, b1, W2, b2 : (I, H), (H,), (H, O), (O,) C-contiguous weights, IN
    t : (B,) intp class indices, IN; used when t_dense is None
    t_dense : (B, O) labels in the weights' dtype, or None, IN; when given,
        ``dy = (y - t_dense) / B`` as the book computes it for any t
    gW1, gb1, gW2, gb2 : arrays shaped like the weights, OUT
    """
    cdef Py_ssize_t B = x.shape[0], I = W1.shape[0], H = W1.shape[1], O = W2.shape[1]
    cdef Py_ssize_t ldx = _checked(I, H, O, x.shape[1], x.strides[0], x.strides[1],
                                   sizeof(xfloat), b1.shape[0], W2.shape[0],
                                   b2.shape[0], xfloat is double, wfloat is double)
    cdef void *scr
    cdef size_t got
    cdef int nt = cnet_threads_for(B, ROWS_PER_THREAD)
    _check_batch(B)
    cdef const Py_ssize_t *tp = NULL
    cdef const wfloat *tdp = NULL
    if B == 0:
        raise ValueError("x must hold at least one row")
    if t_dense is not None:
        if t_dense.shape[0] != B or t_dense.shape[1] != O:
            raise ValueError("t must have shape (B, O)")
        tdp = &t_dense[0, 0]
    else:
        if t is None:
            raise ValueError("t or t_dense is required")
        _check_t(B, t.shape[0])
        tp = &t[0]
    if (gW1.shape[0] != I or gW1.shape[1] != H or gb1.shape[0] != H
            or gW2.shape[0] != H or gW2.shape[1] != O or gb2.shape[0] != O):
        raise ValueError("gradient outputs must be shaped like the weights")
    scr = _take_scratch(_scratch_bytes(True, xfloat is double, wfloat is double, B, I, H, O,
                                       nt), &got)
    with nogil:
        if xfloat is float and wfloat is float:
            tl_gradient_xf_wf(B, I, H, O, &x[0, 0], ldx, tp, tdp, &W1[0, 0],
                              &b1[0], &W2[0, 0], &b2[0], &gW1[0, 0], &gb1[0],
                              &gW2[0, 0], &gb2[0], nt, scr)
        elif xfloat is float and wfloat is double:
            tl_gradient_xf_wd(B, I, H, O, &x[0, 0], ldx, tp, tdp, &W1[0, 0],
                              &b1[0], &W2[0, 0], &b2[0], &gW1[0, 0], &gb1[0],
                              &gW2[0, 0], &gb2[0], nt, scr)
        elif xfloat is double and wfloat is double:
            tl_gradient_xd_wd(B, I, H, O, &x[0, 0], ldx, tp, tdp, &W1[0, 0],
                              &b1[0], &W2[0, 0], &b2[0], &gW1[0, 0], &gb1[0],
                              &gW2[0, 0], &gb2[0], nt, scr)
    _give_scratch(scr, got)


# --- the book's usual call, checked in C -------------------------------------
#
# TwoLayerNet.loss and .gradient in the chapter-4 loop are called 10,000 times
# each with the same kind of arguments: float weights made by the constructor,
# a float32 batch, float64 one-hot labels. Checking those in Python took about
# 6 and 9 us per call. fast_loss, fast_gradient and fast_accuracy check them
# here, params_as_made the weights alone for the other methods; each returns
# None whenever anything differs, so that the caller takes its general path
# (which converts, or raises the error that names the problem).

cdef inline bint _exact(object a, int typenum, int ndim):
    """a is an ndarray (no subclass) of that type and rank, in the machine's
    byte order, C-contiguous and aligned."""
    if type(a) is not np.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    return (cnp.PyArray_TYPE(arr) == typenum and cnp.PyArray_NDIM(arr) == ndim
            and cnp.PyArray_IS_C_CONTIGUOUS(arr) and cnp.PyArray_ISALIGNED(arr)
            and cnp.PyArray_ISNOTSWAPPED(arr))


cdef object _params_as_made(object params, int typenum):
    """(W1, b1, W2, b2) when params is a dict of arrays as the constructor
    makes them (and the book's in-place update keeps them): typenum, ranks 2,
    1, 2, 1, each _exact, shapes (I, H), (H,), (H, O), (O,) of non-zero sizes;
    else None."""
    if type(params) is not dict:
        return None
    W1 = (<dict>params).get("W1")
    b1 = (<dict>params).get("b1")
    W2 = (<dict>params).get("W2")
    b2 = (<dict>params).get("b2")
    if not (_exact(W1, typenum, 2) and _exact(b1, typenum, 1)
            and _exact(W2, typenum, 2) and _exact(b2, typenum, 1)):
        return None
    cdef cnp.npy_intp *d1 = cnp.PyArray_DIMS(<cnp.ndarray>W1)
    cdef cnp.npy_intp *d2 = cnp.PyArray_DIMS(<cnp.ndarray>W2)
    if (d1[0] < 1 or d1[1] < 1 or d2[1] < 1 or d2[0] != d1[1]
            or cnp.PyArray_DIMS(<cnp.ndarray>b1)[0] != d1[1]
            or cnp.PyArray_DIMS(<cnp.ndarray>b2)[0] != d2[1]):
        return None
    return W1, b1, W2, b2


def params_as_made(params, x_dtype):
    """(W1, b1, W2, b2, dtype) for TwoLayerNet._weights when params holds the
    constructor's kind of arrays (_params_as_made) and x_dtype computes in
    their dtype unchanged: float64 params with a float32 or float64 batch,
    float32 params with a float32 batch. None otherwise (the caller converts
    or raises)."""
    if x_dtype is not _F32 and x_dtype is not _F64:
        return None
    w = _params_as_made(params, cnp.NPY_DOUBLE)
    if w is None and x_dtype is _F32:
        w = _params_as_made(params, cnp.NPY_FLOAT)
    if w is None:
        return None
    return w + (w[0].dtype,)


ctypedef struct _Usual:
    Py_ssize_t nB, nI, nH, nO, ldx  # B, I, H, O (the name I is a macro of complex.h)
    bint x64
    const void *x
    const double *t
    const double *W1
    const double *b1
    const double *W2
    const double *b2


cdef object _usual_call(object x, object t, object params, _Usual *u):
    """Fill u and return the tuple (W1, b1, W2, b2) when the arguments are the
    book's usual ones: params a dict of float64 arrays W1 (I, H), b1 (H,),
    W2 (H, O), b2 (O,); x a float32 or float64 batch (B, I), 1 <= B, unit
    column stride; t float64 (B, O); every array an ndarray (no subclass),
    aligned, in the machine's byte order, the params and t C-contiguous. None
    otherwise.

    u holds raw pointers only: the caller keeps the returned tuple (and x
    and t) alive until the kernel returns, because another thread may
    replace params["W1"] while the GIL is released, which would free the
    array u points into."""
    if type(x) is not np.ndarray or not _exact(t, cnp.NPY_DOUBLE, 2):
        return None
    w = _params_as_made(params, cnp.NPY_DOUBLE)
    if w is None:
        return None
    W1, b1, W2, b2 = w
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int xt = cnp.PyArray_TYPE(xa)
    if ((xt != cnp.NPY_FLOAT and xt != cnp.NPY_DOUBLE) or cnp.PyArray_NDIM(xa) != 2
            or not cnp.PyArray_ISALIGNED(xa) or not cnp.PyArray_ISNOTSWAPPED(xa)):
        return None
    u.nI = cnp.PyArray_DIMS(<cnp.ndarray>W1)[0]
    u.nH = cnp.PyArray_DIMS(<cnp.ndarray>W1)[1]
    u.nO = cnp.PyArray_DIMS(<cnp.ndarray>W2)[1]
    u.nB = cnp.PyArray_DIMS(xa)[0]
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(xa)
    cdef cnp.npy_intp *xs = cnp.PyArray_STRIDES(xa)
    if (u.nB < 1 or u.nB > MAX_INDEX
            or cnp.PyArray_DIMS(<cnp.ndarray>t)[0] != u.nB
            or cnp.PyArray_DIMS(<cnp.ndarray>t)[1] != u.nO
            or _shape_problem(u.nI, u.nH, u.nO, cnp.PyArray_DIMS(xa)[1], xs[0], xs[1], item,
                              u.nH, u.nH, u.nO) != SHAPES_OK):
        return None
    u.ldx = xs[0] // item
    u.x64 = xt == cnp.NPY_DOUBLE
    u.x = cnp.PyArray_DATA(xa)
    u.t = <const double *>cnp.PyArray_DATA(<cnp.ndarray>t)
    u.W1 = <const double *>cnp.PyArray_DATA(<cnp.ndarray>W1)
    u.b1 = <const double *>cnp.PyArray_DATA(<cnp.ndarray>b1)
    u.W2 = <const double *>cnp.PyArray_DATA(<cnp.ndarray>W2)
    u.b2 = <const double *>cnp.PyArray_DATA(<cnp.ndarray>b2)
    return w


cdef void _argmax_rows(const double *t, Py_ssize_t B, Py_ssize_t O, Py_ssize_t *out) noexcept nogil:
    """out[b] = np.argmax(t[b]) for the rows of t (B, O): the first maximum,
    or the first NaN when the row has one."""
    cdef Py_ssize_t b, k, best
    cdef double m
    for b in range(B):
        best = 0
        m = t[b * O]
        if not isnan(m):
            for k in range(1, O):
                if not (t[b * O + k] <= m):
                    m = t[b * O + k]
                    best = k
                    if isnan(m):
                        break
        out[b] = best


cdef object _on_classes(object x, object t, object params, bint count_correct):
    """TwoLayerNet.loss, or with count_correct .accuracy, for the book's usual
    arguments (_usual_call); None for any others. A label row's class is its
    argmax (_argmax_rows)."""
    cdef _Usual u
    # held until the kernel returns (see _usual_call)
    held = _usual_call(x, t, params, &u)
    if held is None:
        return None
    # accuracy in blocks of rows (_block_rows); the loss, a sum over all
    # rows in row order, in one call
    cdef Py_ssize_t rows = _block_rows(u.nB, u.nI, u.nH, u.nO) if count_correct else u.nB
    cdef Py_ssize_t s = 0, r, n
    cdef int nt
    cdef Py_ssize_t count = 0
    cdef double loss = 0
    cdef size_t got
    cdef size_t xitem = sizeof(double) if u.x64 else sizeof(float)
    # the class indices, then the kernel's scratch (which aligns itself)
    cdef size_t ti_bytes = sizeof(Py_ssize_t) * u.nB
    cdef void *scr = _take_block_scratch(ti_bytes, u.x64, True, u.nB, rows, u.nI, u.nH,
                                         u.nO, &nt, &got)
    cdef Py_ssize_t *ti = <Py_ssize_t *>scr
    cdef void *kscr = <char *>scr + ti_bytes
    cdef const char *xs
    try:
        with nogil:
            _argmax_rows(u.t, u.nB, u.nO, ti)
        while s < u.nB:
            r = rows if u.nB - s >= 2 * rows else u.nB - s
            xs = <const char *>u.x + s * u.ldx * xitem
            with nogil:
                if count_correct and u.x64:
                    tl_correct_xd_wd(r, u.nI, u.nH, u.nO, <const double *>xs, u.ldx, ti + s,
                                     u.W1, u.b1, u.W2, u.b2, &n, nt, kscr)
                elif count_correct:
                    tl_correct_xf_wd(r, u.nI, u.nH, u.nO, <const float *>xs, u.ldx, ti + s,
                                     u.W1, u.b1, u.W2, u.b2, &n, nt, kscr)
                elif u.x64:
                    tl_loss_xd_wd(r, u.nI, u.nH, u.nO, <const double *>xs, u.ldx, ti,
                                  u.W1, u.b1, u.W2, u.b2, &loss, nt, kscr)
                else:
                    tl_loss_xf_wd(r, u.nI, u.nH, u.nO, <const float *>xs, u.ldx, ti,
                                  u.W1, u.b1, u.W2, u.b2, &loss, nt, kscr)
            if count_correct:
                count += n
            s += r
            if s < u.nB:
                PyErr_CheckSignals()
    finally:
        _give_scratch(scr, got)
    if count_correct:
        return np.int64(count) / float(u.nB)
    return np.float64(loss)


def fast_loss(x, t, params):
    """TwoLayerNet.loss for the book's usual arguments (float64 params, a
    float32/float64 batch (B, I) with a unit column stride, float64 one-hot
    labels (B, O), see _usual_call); None for any others.

    Returns
    -------
    numpy.float64 or None
    """
    return _on_classes(x, t, params, False)


def fast_accuracy(x, t, params):
    """TwoLayerNet.accuracy for the arguments fast_loss takes (the class of a
    label row is its argmax, as NumPy's); None for any others.

    Returns
    -------
    numpy.float64 or None
    """
    return _on_classes(x, t, params, True)


def fast_gradient(x, t, params):
    """TwoLayerNet.gradient for the arguments fast_loss takes (the labels
    used as given: dy = (y - t) / B); None for any others.

    Returns
    -------
    dict or None
        ``W2``, ``b2``, ``W1``, ``b1``: new float64 arrays shaped like the params.
    """
    cdef _Usual u
    # held until the kernel returns (see _usual_call)
    held = _usual_call(x, t, params, &u)
    if held is None:
        return None
    cdef cnp.npy_intp dims[2]
    dims[0] = u.nI
    dims[1] = u.nH
    gW1 = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE, 0)
    gb1 = cnp.PyArray_EMPTY(1, &dims[1], cnp.NPY_DOUBLE, 0)
    dims[0] = u.nH
    dims[1] = u.nO
    gW2 = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE, 0)
    gb2 = cnp.PyArray_EMPTY(1, &dims[1], cnp.NPY_DOUBLE, 0)
    cdef double *g1 = <double *>cnp.PyArray_DATA(<cnp.ndarray>gW1)
    cdef double *g2 = <double *>cnp.PyArray_DATA(<cnp.ndarray>gb1)
    cdef double *g3 = <double *>cnp.PyArray_DATA(<cnp.ndarray>gW2)
    cdef double *g4 = <double *>cnp.PyArray_DATA(<cnp.ndarray>gb2)
    cdef int nt = cnet_threads_for(u.nB, ROWS_PER_THREAD)
    cdef void *scr
    cdef size_t got
    scr = _take_scratch(_scratch_bytes(True, u.x64, True, u.nB, u.nI, u.nH, u.nO, nt), &got)
    with nogil:
        if u.x64:
            tl_gradient_xd_wd(u.nB, u.nI, u.nH, u.nO, <const double *>u.x, u.ldx, NULL, u.t,
                              u.W1, u.b1, u.W2, u.b2, g1, g2, g3, g4, nt, scr)
        else:
            tl_gradient_xf_wd(u.nB, u.nI, u.nH, u.nO, <const float *>u.x, u.ldx, NULL, u.t,
                              u.W1, u.b1, u.W2, u.b2, g1, g2, g3, g4, nt, scr)
    _give_scratch(scr, got)
    return {"W2": gW2, "b2": gb2, "W1": gW1, "b1": gb1}
