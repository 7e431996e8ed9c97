# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled im2col and col2im (private; the public API is cnet.util).

Arguments arrive checked by the public layer: shapes agree, dtypes match, the
last axis of every image plane is contiguous. The N*C image planes are spread
over OpenMP threads; each plane's output is written by one thread, so results
do not depend on the thread count.

Dimension letters as in csrc/im2col.h: N images, C channels, H W input size,
FH FW filter size, OH OW output size, P = OH*OW, K = C*FH*FW.
"""
from cython.parallel cimport prange
from libc.stddef cimport ptrdiff_t

from cnet._config cimport cnet_threads_for

ctypedef fused floating:
    float
    double

from cnet._geometry cimport cnet_conv_geom, make_geometry

cdef extern from "im2col.h" nogil:
    int CNET_PARALLEL_MIN
    void cnet_im2col_plane_f64(const cnet_conv_geom *g, const double *x, ptrdiff_t xrs,
                               double *col, ptrdiff_t ks, ptrdiff_t ms)
    void cnet_im2col_plane_f32(const cnet_conv_geom *g, const float *x, ptrdiff_t xrs,
                               float *col, ptrdiff_t ks, ptrdiff_t ms)
    void cnet_col2im_plane_f64(const cnet_conv_geom *g, const double *col, ptrdiff_t ks,
                               ptrdiff_t ms, double *dx)
    void cnet_col2im_plane_f32(const cnet_conv_geom *g, const float *col, ptrdiff_t ks,
                               ptrdiff_t ms, float *dx)


def im2col_into(const floating[:, :, :, ::1] x, Py_ssize_t FH, Py_ssize_t FW,
                Py_ssize_t stride, Py_ssize_t pad, floating[:, ::1] col, bint transposed,
                int threads=0):
    """Write the patches of x into col.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64, IN
    FH, FW, stride, pad : int, stride >= 1, pad >= 0, FH <= H + 2*pad,
        FW <= W + 2*pad
    col : same dtype as x, OUT. (N*P, K), the book's layout, or with
        ``transposed`` set (K, N*P).
    threads : int
        Threads to use; 0 lets the work size decide.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1]
    cdef cnet_conv_geom g = make_geometry(x.shape[2], x.shape[3], FH, FW, stride, pad)
    cdef Py_ssize_t P = g.OH * g.OW, K = C * FH * FW, i, n, c
    cdef ptrdiff_t ks = N * P if transposed else 1
    cdef ptrdiff_t ms = 1 if transposed else K
    cdef ptrdiff_t xrs = x.strides[2] // sizeof(floating)
    cdef int nt = cnet_threads_for(<size_t>(N * P * K), CNET_PARALLEL_MIN)
    if threads > 0:
        nt = threads
    if N * C == 0 or P * K == 0:
        return
    for i in prange(N * C, nogil=True, num_threads=nt, schedule="static"):
        n = i // C
        c = i % C
        if floating is double:
            cnet_im2col_plane_f64(&g, &x[n, c, 0, 0], xrs,
                                  &col[0, 0] + c * FH * FW * ks + n * P * ms, ks, ms)
        else:
            cnet_im2col_plane_f32(&g, &x[n, c, 0, 0], xrs,
                                  &col[0, 0] + c * FH * FW * ks + n * P * ms, ks, ms)


def col2im_into(const floating[:, ::1] col, Py_ssize_t FH, Py_ssize_t FW, Py_ssize_t stride,
                Py_ssize_t pad, floating[:, :, :, ::1] dx, bint transposed,
                int threads=0):
    """Sum col back into images: the adjoint of im2col_into.

    Parameters
    ----------
    col : (N*P, K) or, with ``transposed`` set, (K, N*P); float32 or float64, IN
    FH, FW, stride, pad : int, as for im2col_into
    dx : (N, C, H, W) C-contiguous, same dtype as col, OUT
    threads : int
        Threads to use; 0 lets the work size decide.
    """
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef cnet_conv_geom g = make_geometry(H, W, FH, FW, stride, pad)
    cdef Py_ssize_t P = g.OH * g.OW, K = C * FH * FW, i, n, c
    cdef ptrdiff_t ks = N * P if transposed else 1
    cdef ptrdiff_t ms = 1 if transposed else K
    cdef int nt = cnet_threads_for(<size_t>(N * P * K), CNET_PARALLEL_MIN)
    if threads > 0:
        nt = threads
    if N * C == 0 or H * W == 0:
        return
    if P * K == 0:
        dx[...] = 0
        return
    for i in prange(N * C, nogil=True, num_threads=nt, schedule="static"):
        n = i // C
        c = i % C
        if floating is double:
            cnet_col2im_plane_f64(&g, &col[0, 0] + c * FH * FW * ks + n * P * ms, ks, ms,
                                  &dx[n, c, 0, 0])
        else:
            cnet_col2im_plane_f32(&g, &col[0, 0] + c * FH * FW * ks + n * P * ms, ks, ms,
                                  &dx[n, c, 0, 0])
