# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled layout steps of the convolution layer (private; used by
cnet.layers.convolution).

Arguments arrive checked by the layer. The FN filters are spread over OpenMP
threads; each filter's outputs (and its db sum) are computed by one thread,
so results do not depend on the thread count.

Dimension letters as in csrc/im2col.h; nb is the images of one chunk.
"""
from cython.parallel cimport prange
from libc.stddef cimport ptrdiff_t

from cnet._config cimport cnet_threads_for

ctypedef fused floating:
    float
    double

cdef extern from "conv.h" nogil:
    int CNET_PARALLEL_MIN
    void cnet_conv_bias_out_f64(const double *outT, double b, double *out, ptrdiff_t nb,
                                ptrdiff_t FN, ptrdiff_t P, int relu)
    void cnet_conv_bias_out_f32(const float *outT, float b, float *out, ptrdiff_t nb,
                                ptrdiff_t FN, ptrdiff_t P, int relu)
    void cnet_conv_dout_rows_f64(const double *dout, const double *relu_out, double *doutT,
                                 double *db, ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P)
    void cnet_conv_dout_rows_f32(const float *dout, const float *relu_out, float *doutT,
                                 float *db, ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P)


def bias_out(const floating[:, ::1] outT, const floating[::1] b, floating[:, :, ::1] out,
             bint relu, int threads=0):
    """out[n, f, p] = outT[f, n*P + p] + b[f], ReLU applied when ``relu``.

    Parameters
    ----------
    outT : (FN, nb*P), IN
    b : (FN,), IN
    out : (nb, FN, P), same dtype, OUT
    relu : bool
    threads : int
        Threads to use; 0 lets the work size decide.
    """
    cdef Py_ssize_t nb = out.shape[0], FN = out.shape[1], P = out.shape[2], f
    cdef int nt = cnet_threads_for(<size_t>(nb * FN * P), CNET_PARALLEL_MIN)
    if threads > 0:
        nt = threads
    if nb * FN * P == 0:
        return
    for f in prange(FN, nogil=True, num_threads=nt, schedule="static"):
        if floating is double:
            cnet_conv_bias_out_f64(&outT[f, 0], b[f], &out[0, f, 0], nb, FN, P, relu)
        else:
            cnet_conv_bias_out_f32(&outT[f, 0], b[f], &out[0, f, 0], nb, FN, P, relu)


def dout_rows(const floating[:, :, ::1] dout, floating[:, ::1] doutT, floating[::1] db,
              const floating[:, :, ::1] relu_out=None, int threads=0):
    """doutT[f, n*P + p] = dout[n, f, p], and db[f] += their sum in (n, p) order;
    with relu_out, entries where relu_out <= 0 count as 0 (a fused ReLU).

    Parameters
    ----------
    dout : (nb, FN, P), IN
    doutT : (FN, nb*P), same dtype, OUT
    db : (FN,), IN/OUT; start it at -0.0 for a plain sum
    relu_out : (nb, FN, P) or None, the forward's output after ReLU, IN
    threads : int
        Threads to use; 0 lets the work size decide.
    """
    cdef Py_ssize_t nb = dout.shape[0], FN = dout.shape[1], P = dout.shape[2], f
    cdef int nt = cnet_threads_for(<size_t>(nb * FN * P), CNET_PARALLEL_MIN)
    cdef const floating *mask = NULL
    if threads > 0:
        nt = threads
    if nb * FN * P == 0:
        return
    if relu_out is not None:
        mask = &relu_out[0, 0, 0]
    for f in prange(FN, nogil=True, num_threads=nt, schedule="static"):
        if floating is double:
            cnet_conv_dout_rows_f64(&dout[0, f, 0], (mask + f * P) if mask else NULL,
                                    &doutT[f, 0], &db[f], nb, FN, P)
        else:
            cnet_conv_dout_rows_f32(&dout[0, f, 0], (mask + f * P) if mask else NULL,
                                    &doutT[f, 0], &db[f], nb, FN, P)
