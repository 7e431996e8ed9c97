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
    int CNET_ROW_SUMS
    void cnet_conv_dout_rows_f64(const double *dout, const double *relu_out, double *doutT,
                                 ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P)
    void cnet_conv_dout_rows_f32(const float *dout, const float *relu_out, float *doutT,
                                 ptrdiff_t nb, ptrdiff_t FN, ptrdiff_t P)
    void cnet_conv_row_sums_f64(const double *doutT, ptrdiff_t ld, ptrdiff_t nf, ptrdiff_t M,
                                double *db)
    void cnet_conv_row_sums_f32(const float *doutT, ptrdiff_t ld, ptrdiff_t nf, ptrdiff_t M,
                                float *db)


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


def dout_rows(const floating[:, :, ::1] dout, floating[:, ::1] doutT,
              const floating[:, :, ::1] relu_out=None, int threads=0):
    """doutT[f, n*P + p] = dout[n, f, p]; with relu_out, entries where
    relu_out <= 0 become 0 (a fused ReLU).

    Parameters
    ----------
    dout : (nb, FN, P), IN
    doutT : (FN, nb*P), same dtype, OUT
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
                                    &doutT[f, 0], nb, FN, P)
        else:
            cnet_conv_dout_rows_f32(&dout[0, f, 0], (mask + f * P) if mask else NULL,
                                    &doutT[f, 0], nb, FN, P)


def row_sums(const floating[:, ::1] doutT, floating[::1] db, int threads=0):
    """db[f] += doutT[f, 0] + doutT[f, 1] + ..., added in that order (the
    book's np.sum(dout, axis=0) over the (N*P, FN) gradient).

    Parameters
    ----------
    doutT : (FN, M), C-contiguous, IN
    db : (FN,), same dtype, IN/OUT; start it at -0.0 for a plain sum
    threads : int
        Threads to use (groups of CNET_ROW_SUMS rows each); 0 lets the work
        size decide.
    """
    cdef Py_ssize_t FN = doutT.shape[0], M = doutT.shape[1], g, f0, ng
    cdef int nt = cnet_threads_for(<size_t>(FN * M), CNET_PARALLEL_MIN)
    if db.shape[0] != FN:
        raise ValueError("db must have %d entries, got %d" % (FN, db.shape[0]))
    if threads > 0:
        nt = threads
    if FN * M == 0:
        return
    ng = (FN + CNET_ROW_SUMS - 1) // CNET_ROW_SUMS
    if nt == 1 or ng == 1:
        if floating is double:
            cnet_conv_row_sums_f64(&doutT[0, 0], M, FN, M, &db[0])
        else:
            cnet_conv_row_sums_f32(&doutT[0, 0], M, FN, M, &db[0])
        return
    for g in prange(ng, nogil=True, num_threads=nt, schedule="static"):
        f0 = g * CNET_ROW_SUMS
        if floating is double:
            cnet_conv_row_sums_f64(&doutT[f0, 0], M, min(CNET_ROW_SUMS, FN - f0), M, &db[f0])
        else:
            cnet_conv_row_sums_f32(&doutT[f0, 0], M, min(CNET_ROW_SUMS, FN - f0), M, &db[f0])
