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
from cnet._config cimport cnet_threads_for

ctypedef fused xfloat:
    float
    double

ctypedef fused wfloat:
    float
    double

cdef extern from "two_layer.h" nogil:
    int tl_predict_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                         const float *x, Py_ssize_t ldx, const float *W1,
                         const float *b1, const float *W2, const float *b2,
                         float *y, int nthreads)
    int tl_predict_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                         const float *x, Py_ssize_t ldx, const double *W1,
                         const double *b1, const double *W2, const double *b2,
                         double *y, int nthreads)
    int tl_predict_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                         const double *x, Py_ssize_t ldx, const double *W1,
                         const double *b1, const double *W2, const double *b2,
                         double *y, int nthreads)
    int tl_loss_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                      const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                      const float *W1, const float *b1, const float *W2,
                      const float *b2, float *loss, int nthreads)
    int tl_loss_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                      const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                      const double *W1, const double *b1, const double *W2,
                      const double *b2, double *loss, int nthreads)
    int tl_loss_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                      const double *x, Py_ssize_t ldx, const Py_ssize_t *t,
                      const double *W1, const double *b1, const double *W2,
                      const double *b2, double *loss, int nthreads)
    int tl_correct_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                         const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                         const float *W1, const float *b1, const float *W2,
                         const float *b2, Py_ssize_t *count, int nthreads)
    int tl_correct_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                         const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                         const double *W1, const double *b1, const double *W2,
                         const double *b2, Py_ssize_t *count, int nthreads)
    int tl_correct_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                         const double *x, Py_ssize_t ldx, const Py_ssize_t *t,
                         const double *W1, const double *b1, const double *W2,
                         const double *b2, Py_ssize_t *count, int nthreads)
    int tl_gradient_xf_wf(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                          const float *t_dense, const float *W1, const float *b1,
                          const float *W2, const float *b2, float *gW1, float *gb1,
                          float *gW2, float *gb2, int nthreads)
    int tl_gradient_xf_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const float *x, Py_ssize_t ldx, const Py_ssize_t *t,
                          const double *t_dense, const double *W1, const double *b1,
                          const double *W2, const double *b2, double *gW1,
                          double *gb1, double *gW2, double *gb2, int nthreads)
    int tl_gradient_xd_wd(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                          const double *x, Py_ssize_t ldx, const Py_ssize_t *t,
                          const double *t_dense, const double *W1, const double *b1,
                          const double *W2, const double *b2, double *gW1,
                          double *gb1, double *gW2, double *gb2, int nthreads)

# Rows per thread below which a second thread costs more than it saves: one
# row of MNIST is ~150 non-zero inputs times H multiply-adds.
cdef enum:
    ROWS_PER_THREAD = 16

# The kernels list input and batch-row indices as int32.
cdef Py_ssize_t MAX_INDEX = 2**31 - 16


cdef Py_ssize_t _checked(Py_ssize_t I, Py_ssize_t H, Py_ssize_t O, Py_ssize_t x_cols,
                         Py_ssize_t x_stride0, Py_ssize_t x_stride1, Py_ssize_t x_item,
                         Py_ssize_t b1_n, Py_ssize_t W2_rows, Py_ssize_t b2_n,
                         bint x_is_double, bint w_is_double) except -1:
    """Check the shapes agree (so no kernel reads out of bounds); return ldx."""
    if x_is_double and not w_is_double:
        raise TypeError("a float64 batch needs float64 weights")
    if I < 1 or H < 1 or O < 1:
        raise ValueError("input, hidden and output sizes must be >= 1")
    if I > MAX_INDEX:
        raise ValueError("input size %d is too large (at most %d)" % (I, MAX_INDEX))
    if x_cols != I or b1_n != H or W2_rows != H or b2_n != O:
        raise ValueError("x, W1, b1, W2, b2 shapes do not agree")
    if x_cols > 1 and x_stride1 != x_item:
        raise ValueError("x must have a unit column stride")
    if x_stride0 % x_item:
        raise ValueError("x: row stride is not a multiple of the item size")
    return x_stride0 // x_item


cdef inline int _check_batch(Py_ssize_t B) except -1:
    if B > MAX_INDEX:
        raise ValueError("batch of %d rows is too large (at most %d)" % (B, MAX_INDEX))
    return 0


cdef inline int _check_rc(int rc) except -1:
    if rc != 0:
        raise MemoryError("TwoLayerNet kernel: out of memory for scratch buffers")
    return 0


cdef inline int _check_t(Py_ssize_t B, Py_ssize_t tn) except -1:
    if tn != B:
        raise ValueError("t must hold one label per row of x")
    return 0


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
    cdef int rc = 0
    cdef int nt = cnet_threads_for(B, ROWS_PER_THREAD)
    _check_batch(B)
    if y.shape[0] != B or y.shape[1] != O:
        raise ValueError("y must have shape (B, O)")
    if B == 0:
        return
    with nogil:
        if xfloat is float and wfloat is float:
            rc = tl_predict_xf_wf(B, I, H, O, &x[0, 0], ldx, &W1[0, 0], &b1[0],
                                  &W2[0, 0], &b2[0], &y[0, 0], nt)
        elif xfloat is float and wfloat is double:
            rc = tl_predict_xf_wd(B, I, H, O, &x[0, 0], ldx, &W1[0, 0], &b1[0],
                                  &W2[0, 0], &b2[0], &y[0, 0], nt)
        elif xfloat is double and wfloat is double:
            rc = tl_predict_xd_wd(B, I, H, O, &x[0, 0], ldx, &W1[0, 0], &b1[0],
                                  &W2[0, 0], &b2[0], &y[0, 0], nt)
    _check_rc(rc)


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
    cdef int rc = 0
    cdef int nt = cnet_threads_for(B, ROWS_PER_THREAD)
    _check_batch(B)
    cdef wfloat out = 0
    _check_t(B, t.shape[0])
    if B == 0:
        raise ValueError("x must hold at least one row")
    with nogil:
        if xfloat is float and wfloat is float:
            rc = tl_loss_xf_wf(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0], &b1[0],
                               &W2[0, 0], &b2[0], &out, nt)
        elif xfloat is float and wfloat is double:
            rc = tl_loss_xf_wd(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0], &b1[0],
                               &W2[0, 0], &b2[0], &out, nt)
        elif xfloat is double and wfloat is double:
            rc = tl_loss_xd_wd(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0], &b1[0],
                               &W2[0, 0], &b2[0], &out, nt)
    _check_rc(rc)
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
    cdef int rc = 0
    cdef int nt = cnet_threads_for(B, ROWS_PER_THREAD)
    _check_batch(B)
    cdef Py_ssize_t count = 0
    _check_t(B, t.shape[0])
    if B == 0:
        return 0
    with nogil:
        if xfloat is float and wfloat is float:
            rc = tl_correct_xf_wf(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0],
                                  &b1[0], &W2[0, 0], &b2[0], &count, nt)
        elif xfloat is float and wfloat is double:
            rc = tl_correct_xf_wd(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0],
                                  &b1[0], &W2[0, 0], &b2[0], &count, nt)
        elif xfloat is double and wfloat is double:
            rc = tl_correct_xd_wd(B, I, H, O, &x[0, 0], ldx, &t[0], &W1[0, 0],
                                  &b1[0], &W2[0, 0], &b2[0], &count, nt)
    _check_rc(rc)
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
    cdef int rc = 0
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
    with nogil:
        if xfloat is float and wfloat is float:
            rc = tl_gradient_xf_wf(B, I, H, O, &x[0, 0], ldx, tp, tdp, &W1[0, 0],
                                   &b1[0], &W2[0, 0], &b2[0], &gW1[0, 0], &gb1[0],
                                   &gW2[0, 0], &gb2[0], nt)
        elif xfloat is float and wfloat is double:
            rc = tl_gradient_xf_wd(B, I, H, O, &x[0, 0], ldx, tp, tdp, &W1[0, 0],
                                   &b1[0], &W2[0, 0], &b2[0], &gW1[0, 0], &gb1[0],
                                   &gW2[0, 0], &gb2[0], nt)
        elif xfloat is double and wfloat is double:
            rc = tl_gradient_xd_wd(B, I, H, O, &x[0, 0], ldx, tp, tdp, &W1[0, 0],
                                   &b1[0], &W2[0, 0], &b2[0], &gW1[0, 0], &gb1[0],
                                   &gW2[0, 0], &gb2[0], nt)
    _check_rc(rc)
