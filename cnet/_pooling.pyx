# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled max pooling (private; used by cnet.layers.convolution.Pooling).

Arguments arrive checked by the layer. The N*C planes are spread over OpenMP
threads, one plane per thread at a time, so results do not depend on the
thread count. Dimension letters as in csrc/im2col.h.
"""
from cython.parallel cimport prange
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int32_t

from cnet._config cimport cnet_threads_for

ctypedef fused floating:
    float
    double

from cnet._geometry cimport cnet_conv_geom, make_geometry

cdef extern from "pooling.h" nogil:
    int CNET_PARALLEL_MIN
    void cnet_pool_forward_plane_f64(const cnet_conv_geom *g, const double *x,
                                     ptrdiff_t xrs, double *out, int32_t *argmax)
    void cnet_pool_forward_plane_f32(const cnet_conv_geom *g, const float *x,
                                     ptrdiff_t xrs, float *out, int32_t *argmax)
    void cnet_pool_backward_plane_f64(const cnet_conv_geom *g, const double *dout,
                                      const int32_t *argmax, double *dx)
    void cnet_pool_backward_plane_f32(const cnet_conv_geom *g, const float *dout,
                                      const int32_t *argmax, float *dx)
    void cnet_pool_conv_rows_forward_f64(const cnet_conv_geom *g, const double *outT, double b,
                                         double *out, int32_t *argmax, ptrdiff_t nb,
                                         ptrdiff_t FN)
    void cnet_pool_conv_rows_forward_f32(const cnet_conv_geom *g, const float *outT, float b,
                                         float *out, int32_t *argmax, ptrdiff_t nb,
                                         ptrdiff_t FN)
    void cnet_pool_conv_rows_backward_f64(const cnet_conv_geom *g, const double *dout,
                                          const int32_t *argmax, const double *out,
                                          double *doutT, double *masked, ptrdiff_t nb,
                                          ptrdiff_t FN)
    void cnet_pool_conv_rows_backward_f32(const cnet_conv_geom *g, const float *dout,
                                          const int32_t *argmax, const float *out,
                                          float *doutT, float *masked, ptrdiff_t nb,
                                          ptrdiff_t FN)


def forward(const floating[:, :, :, ::1] x, Py_ssize_t FH, Py_ssize_t FW, Py_ssize_t stride,
            Py_ssize_t pad, floating[:, :, :, ::1] out, int32_t[:, :, :, ::1] argmax,
            int threads=0):
    """Max over each window of x, and where it was.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64, last axis contiguous, IN
    FH, FW, stride, pad : int, the window, stride >= 1, pad >= 0
    out : (N, C, OH, OW) same dtype, C-contiguous, OUT
    argmax : (N, C, OH, OW) int32, window index ky*FW + kx of the maximum, OUT
    threads : int
        Threads to use; 0 lets the work size decide.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], i, n, c
    cdef cnet_conv_geom g = make_geometry(x.shape[2], x.shape[3], FH, FW, stride, pad)
    cdef ptrdiff_t xrs = x.strides[2] // sizeof(floating)
    cdef int nt = cnet_threads_for(<size_t>(N * C * g.OH * g.OW * FH * FW),
                                   CNET_PARALLEL_MIN)
    if threads > 0:
        nt = threads
    if N * C * g.OH * g.OW == 0:
        return
    for i in prange(N * C, nogil=True, num_threads=nt, schedule="static"):
        n = i // C
        c = i % C
        if floating is double:
            cnet_pool_forward_plane_f64(&g, &x[n, c, 0, 0], xrs, &out[n, c, 0, 0],
                                        &argmax[n, c, 0, 0])
        else:
            cnet_pool_forward_plane_f32(&g, &x[n, c, 0, 0], xrs, &out[n, c, 0, 0],
                                        &argmax[n, c, 0, 0])


def backward(const floating[:, :, :, ::1] dout, const int32_t[:, :, :, ::1] argmax, Py_ssize_t FH,
             Py_ssize_t FW, Py_ssize_t stride, Py_ssize_t pad, floating[:, :, :, ::1] dx,
             int threads=0):
    """Route each dout to its window's maximum; everything else gets 0.

    Parameters
    ----------
    dout : (N, C, OH, OW) float32 or float64, C-contiguous, IN
    argmax : (N, C, OH, OW) int32 from forward, IN
    FH, FW, stride, pad : int, as in forward
    dx : (N, C, H, W) same dtype as dout, C-contiguous, OUT
    threads : int
        Threads to use; 0 lets the work size decide.
    """
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], i, n, c
    cdef cnet_conv_geom g = make_geometry(dx.shape[2], dx.shape[3], FH, FW, stride, pad)
    cdef int nt = cnet_threads_for(<size_t>(N * C * g.H * g.W), CNET_PARALLEL_MIN)
    if threads > 0:
        nt = threads
    if N * C * g.H * g.W == 0:
        return
    for i in prange(N * C, nogil=True, num_threads=nt, schedule="static"):
        n = i // C
        c = i % C
        if floating is double:
            cnet_pool_backward_plane_f64(&g, &dout[n, c, 0, 0], &argmax[n, c, 0, 0],
                                         &dx[n, c, 0, 0])
        else:
            cnet_pool_backward_plane_f32(&g, &dout[n, c, 0, 0], &argmax[n, c, 0, 0],
                                         &dx[n, c, 0, 0])


def conv_rows_forward(const floating[:, ::1] outT, const floating[::1] b, Py_ssize_t OH,
                      Py_ssize_t OW, Py_ssize_t FH, Py_ssize_t FW, Py_ssize_t stride,
                      floating[:, :, ::1] out, int32_t[:, :, ::1] argmax, int threads=0):
    """Bias, ReLU and max pooling after a convolution's product, in one pass.

    Parameters
    ----------
    outT : (FN, nb*OH*OW), the product W @ col of a chunk of nb images, IN
    b : (FN,), IN
    OH, OW : the convolution's output plane
    FH, FW, stride : the pooling window (no padding)
    out : (nb, FN, PH*PW) pooled output, same dtype, OUT
    argmax : (nb, FN, PH*PW) int32, window index ky*FW + kx of each maximum, OUT
    threads : int
        Threads to use; 0 lets the work size decide.
    """
    cdef Py_ssize_t nb = out.shape[0], FN = out.shape[1], f
    cdef cnet_conv_geom g = make_geometry(OH, OW, FH, FW, stride, 0)
    cdef int nt = cnet_threads_for(<size_t>outT.size, CNET_PARALLEL_MIN)
    if threads > 0:
        nt = threads
    if outT.size == 0 or out.size == 0:
        return
    for f in prange(FN, nogil=True, num_threads=nt, schedule="static"):
        if floating is double:
            cnet_pool_conv_rows_forward_f64(&g, &outT[f, 0], b[f], &out[0, f, 0],
                                            &argmax[0, f, 0], nb, FN)
        else:
            cnet_pool_conv_rows_forward_f32(&g, &outT[f, 0], b[f], &out[0, f, 0],
                                            &argmax[0, f, 0], nb, FN)


def conv_rows_backward(const floating[:, :, ::1] dout, const int32_t[:, :, ::1] argmax,
                       const floating[:, :, ::1] out, Py_ssize_t OH, Py_ssize_t OW,
                       Py_ssize_t FH, Py_ssize_t FW, Py_ssize_t stride,
                       floating[:, ::1] doutT, floating[:, ::1] scratch, int threads=0):
    """Backward of :func:`conv_rows_forward`: the gradient at the product
    (its row sums, db, are cnet._conv.row_sums').

    Parameters
    ----------
    dout : (nb, FN, PH*PW) gradient at the pooled output, IN
    argmax, out : (nb, FN, PH*PW) from forward, IN
    OH, OW, FH, FW, stride : as in forward
    doutT : (FN, nb*OH*OW), same dtype, OUT
    scratch : (FN, PH*PW), same dtype, scratch
    threads : int
        Threads to use; 0 lets the work size decide.
    """
    cdef Py_ssize_t nb = dout.shape[0], FN = dout.shape[1], f
    cdef cnet_conv_geom g = make_geometry(OH, OW, FH, FW, stride, 0)
    cdef int nt = cnet_threads_for(<size_t>doutT.size, CNET_PARALLEL_MIN)
    if scratch.shape[0] < FN or scratch.shape[1] < dout.shape[2]:
        raise ValueError("scratch must have shape (%d, %d)" % (FN, dout.shape[2]))
    if threads > 0:
        nt = threads
    if doutT.size == 0:
        return
    for f in prange(FN, nogil=True, num_threads=nt, schedule="static"):
        if floating is double:
            cnet_pool_conv_rows_backward_f64(&g, &dout[0, f, 0], &argmax[0, f, 0],
                                             &out[0, f, 0], &doutT[f, 0],
                                             &scratch[f, 0], nb, FN)
        else:
            cnet_pool_conv_rows_backward_f32(&g, &dout[0, f, 0], &argmax[0, f, 0],
                                             &out[0, f, 0], &doutT[f, 0],
                                             &scratch[f, 0], nb, FN)
