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
    int cnet_conv_gemm_best()
    int cnet_conv_gemm_f64(const double *A, ptrdiff_t lda, const double *B, ptrdiff_t ldb,
                           double *C, ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                           int path)
    int cnet_conv_gemm_f32(const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                           float *C, ptrdiff_t ldc, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                           int path)


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


# The product's SIMD paths (csrc/conv.h), for gemm's ``path``.
GEMM_PATHS = {"plain": 1, "base": 2, "avx2": 3, "avx512f": 4}


def gemm_best():
    """The path (a value of GEMM_PATHS) gemm runs by default here."""
    return cnet_conv_gemm_best()


def gemm(const floating[:, ::1] A, const floating[:, ::1] B, floating[:, ::1] C, int path=0):
    """C = A·B on the calling thread, each C[i, j] summed over k in order with
    every product rounded before it is added: the same bits on every build
    and SIMD path, and for any thread count of the caller.

    Parameters
    ----------
    A : (M, K), C-contiguous, IN
    B : (K, N), C-contiguous, same dtype, IN
    C : (M, N), C-contiguous, same dtype, OUT; must not overlap A or B
    path : int
        0 for the fastest path here; a value of GEMM_PATHS runs at most that
        path (for tests).

    Returns
    -------
    int, the path that ran (0 when C is empty).
    """
    cdef Py_ssize_t M = A.shape[0], K = A.shape[1], N = B.shape[1]
    cdef int ran
    if B.shape[0] != K or C.shape[0] != M or C.shape[1] != N:
        raise ValueError("gemm: shapes (%d, %d)·(%d, %d) -> (%d, %d) do not match"
                         % (M, K, B.shape[0], N, C.shape[0], C.shape[1]))
    if M == 0 or N == 0:
        return 0
    # A K of 0 reads no element of A or B: any address will do.
    with nogil:
        if floating is double:
            ran = cnet_conv_gemm_f64(&A[0, 0] if K else NULL, A.strides[0] // sizeof(double),
                                     &B[0, 0] if K else NULL, B.strides[0] // sizeof(double),
                                     &C[0, 0], C.strides[0] // sizeof(double), M, N, K, path)
        else:
            ran = cnet_conv_gemm_f32(&A[0, 0] if K else NULL, A.strides[0] // sizeof(float),
                                     &B[0, 0] if K else NULL, B.strides[0] // sizeof(float),
                                     &C[0, 0], C.strides[0] // sizeof(float), M, N, K, path)
    return ran
