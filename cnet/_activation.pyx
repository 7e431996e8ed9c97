# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of the activation layers (private; cnet.layers.Relu, Sigmoid).

Every entry takes flat, C-contiguous, aligned arrays of one float dtype,
checked by cnet.layers.activation. Large arrays are cut into fixed blocks
spread over threads; each element is computed alone, so results do not
depend on the thread count.
"""
from cython.parallel cimport prange
from cython cimport floating

from cnet._config cimport cnet_threads_for

cdef extern from "cnet_common.h":
    enum: CNET_PARALLEL_MIN

cdef extern from "activation.h" nogil:
    void relu_forward_f64(const double *x, double *out, unsigned char *mask, size_t n)
    void relu_forward_f32(const float *x, float *out, unsigned char *mask, size_t n)
    void bias_relu_forward_f64(double *z, const double *b, unsigned char *mask, size_t rows,
                               size_t cols)
    void bias_relu_forward_f32(float *z, const float *b, unsigned char *mask, size_t rows,
                               size_t cols)
    void relu_backward_f64(double *dout, const unsigned char *mask, size_t n)
    void relu_backward_f32(float *dout, const unsigned char *mask, size_t n)
    void sigmoid_backward_f64(const double *dout, const double *out, double *dx, size_t n)
    void sigmoid_backward_f32(const float *dout, const float *out, float *dx, size_t n)
    void dropout_forward_f64(const double *x, const double *r, double ratio, double *out,
                             unsigned char *mask, size_t n)
    void dropout_forward_f32(const float *x, const double *r, double ratio, float *out,
                             unsigned char *mask, size_t n)
    void mask_multiply_f64(const double *dout, const unsigned char *mask, double *dx,
                           size_t n)
    void mask_multiply_f32(const float *dout, const unsigned char *mask, float *dx, size_t n)

cdef Py_ssize_t BLOCK = CNET_PARALLEL_MIN


cdef enum:
    RELU_FORWARD = 0
    RELU_BACKWARD = 1
    SIGMOID_BACKWARD = 2
    MASK_MULTIPLY = 3


cdef void _run(int op, floating *a, floating *b, floating *c, unsigned char *mask,
               Py_ssize_t n) noexcept nogil:
    """One operation over n elements (the arrays' roles as in the entries below)."""
    cdef Py_ssize_t nb = (n + BLOCK - 1) // BLOCK, blk, i0, cnt
    for blk in prange(nb, num_threads=cnet_threads_for(n, BLOCK), schedule="static"):
        i0 = blk * BLOCK
        cnt = min(BLOCK, n - i0)
        if floating is double:
            if op == RELU_FORWARD:
                relu_forward_f64(a + i0, b + i0, mask + i0, cnt)
            elif op == RELU_BACKWARD:
                relu_backward_f64(a + i0, mask + i0, cnt)
            elif op == MASK_MULTIPLY:
                mask_multiply_f64(a + i0, mask + i0, c + i0, cnt)
            else:
                sigmoid_backward_f64(a + i0, b + i0, c + i0, cnt)
        else:
            if op == RELU_FORWARD:
                relu_forward_f32(a + i0, b + i0, mask + i0, cnt)
            elif op == RELU_BACKWARD:
                relu_backward_f32(a + i0, mask + i0, cnt)
            elif op == MASK_MULTIPLY:
                mask_multiply_f32(a + i0, mask + i0, c + i0, cnt)
            else:
                sigmoid_backward_f32(a + i0, b + i0, c + i0, cnt)


def relu_forward(const floating[::1] x, floating[::1] out, unsigned char[::1] mask):
    """mask = x <= 0; out = x with the masked entries 0."""
    if x.shape[0]:
        with nogil:
            _run(RELU_FORWARD, <floating *>&x[0], &out[0], NULL, &mask[0], x.shape[0])


def bias_relu_forward(floating[:, ::1] z, const floating[::1] b, unsigned char[:, ::1] mask):
    """z += b (b along rows); mask = z <= 0; z[mask] = 0, in place (shapes
    checked by the caller: z and mask (rows, cols), b (cols,))."""
    cdef Py_ssize_t rows = z.shape[0], cols = z.shape[1]
    cdef Py_ssize_t step = max(1, BLOCK // max(1, cols)), nb, blk, r0
    if rows == 0 or cols == 0:
        return
    nb = (rows + step - 1) // step
    with nogil:
        for blk in prange(nb, num_threads=cnet_threads_for(rows * cols, BLOCK),
                          schedule="static"):
            r0 = blk * step
            if floating is double:
                bias_relu_forward_f64(&z[r0, 0], &b[0], &mask[r0, 0], min(step, rows - r0),
                                      cols)
            else:
                bias_relu_forward_f32(&z[r0, 0], &b[0], &mask[r0, 0], min(step, rows - r0),
                                      cols)


def relu_backward(floating[::1] dout, const unsigned char[::1] mask):
    """dout[mask] = 0 in place."""
    if dout.shape[0]:
        with nogil:
            _run(RELU_BACKWARD, &dout[0], NULL, NULL, <unsigned char *>&mask[0],
                 dout.shape[0])


def sigmoid_backward(const floating[::1] dout, const floating[::1] out, floating[::1] dx):
    """dx = dout * (1 - out) * out."""
    if dout.shape[0]:
        with nogil:
            _run(SIGMOID_BACKWARD, <floating *>&dout[0], <floating *>&out[0], &dx[0], NULL,
                 dout.shape[0])


def dropout_forward(const floating[::1] x, const double[::1] r, double ratio,
                    floating[::1] out, unsigned char[::1] mask):
    """mask = r > ratio; out = x * mask."""
    cdef Py_ssize_t n = x.shape[0], nb = (n + BLOCK - 1) // BLOCK, blk, i0, cnt
    if n == 0:
        return
    with nogil:
        for blk in prange(nb, num_threads=cnet_threads_for(n, BLOCK), schedule="static"):
            i0 = blk * BLOCK
            cnt = min(BLOCK, n - i0)
            if floating is double:
                dropout_forward_f64(&x[i0], &r[i0], ratio, &out[i0], &mask[i0], cnt)
            else:
                dropout_forward_f32(&x[i0], &r[i0], ratio, &out[i0], &mask[i0], cnt)


def mask_multiply(const floating[::1] dout, const unsigned char[::1] mask, floating[::1] dx):
    """dx = dout * mask."""
    if dout.shape[0]:
        with nogil:
            _run(MASK_MULTIPLY, <floating *>&dout[0], NULL, &dx[0],
                 <unsigned char *>&mask[0], dout.shape[0])
