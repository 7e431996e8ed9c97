# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of the fully connected layer (private; cnet.layers.Affine).

Arguments arrive checked by cnet.layers.affine: x (B, I) with unit column
stride, W (I, O), b (O,), dout and the outputs C-contiguous, dtypes one of
the pairs below. Work is split over threads by rows of the output, each row
computed whole by one thread, so results do not depend on the thread count.

Dimension letters: B batch rows, I inputs, O outputs.
"""
from cython.parallel cimport prange, parallel, threadid
from libc.stdint cimport int32_t
from libc.stdlib cimport malloc, free
cimport numpy as cnp

from cnet._config cimport cnet_threads_for

cnp.import_array()

cdef extern from "nonfinite.h" nogil:
    int cnet_any_nonfinite_f64(size_t n, const double *v)
    int cnet_any_nonfinite_f32(size_t n, const float *v)

cdef extern from "affine.h" nogil:
    enum:
        CNET_AFFINE_RC
        CNET_AFFINE_BIAS
        CNET_AFFINE_BIAS_RELU
    size_t CNET_AFFINE_PF_BYTES
    void affine_forward_chunk_xf_wd(Py_ssize_t R, const float *x, Py_ssize_t xs,
                                    const double *W, Py_ssize_t ldw, const double *b,
                                    double *out, unsigned char *mask, Py_ssize_t I,
                                    Py_ssize_t O, int epilogue, int all, int32_t *idx,
                                    float *xval, Py_ssize_t *n, int32_t *starts,
                                    Py_ssize_t sblk, double *val, const char *pf,
                                    const char *pf_end)
    void affine_forward_chunk_xd_wd(Py_ssize_t R, const double *x, Py_ssize_t xs,
                                    const double *W, Py_ssize_t ldw, const double *b,
                                    double *out, unsigned char *mask, Py_ssize_t I,
                                    Py_ssize_t O, int epilogue, int all, int32_t *idx,
                                    double *xval, Py_ssize_t *n, int32_t *starts,
                                    Py_ssize_t sblk, double *val, const char *pf,
                                    const char *pf_end)
    void affine_forward_chunk_xf_wf(Py_ssize_t R, const float *x, Py_ssize_t xs,
                                    const float *W, Py_ssize_t ldw, const float *b,
                                    float *out, unsigned char *mask, Py_ssize_t I,
                                    Py_ssize_t O, int epilogue, int all, int32_t *idx,
                                    float *xval, Py_ssize_t *n, int32_t *starts,
                                    Py_ssize_t sblk, float *val, const char *pf,
                                    const char *pf_end)
    enum:
        CNET_AFFINE_MAX_SBLK
    void affine_row_lists_xf_wd(Py_ssize_t R, const float *x, Py_ssize_t xs, Py_ssize_t I,
                                int all, int32_t *idx, float *xval, Py_ssize_t *n,
                                int32_t *starts, Py_ssize_t sblk)
    void affine_row_lists_xd_wd(Py_ssize_t R, const double *x, Py_ssize_t xs, Py_ssize_t I,
                                int all, int32_t *idx, double *xval, Py_ssize_t *n,
                                int32_t *starts, Py_ssize_t sblk)
    void affine_grad_w_rows_xf_wd(Py_ssize_t G, Py_ssize_t I, Py_ssize_t O, Py_ssize_t q,
                                  Py_ssize_t sblk, const int32_t *rl, const float *rv,
                                  const int32_t *rs, const double *dout, Py_ssize_t ldd,
                                  double *dW, int32_t *lidx, double *lval, Py_ssize_t cap,
                                  int add)
    void affine_grad_w_rows_xd_wd(Py_ssize_t G, Py_ssize_t I, Py_ssize_t O, Py_ssize_t q,
                                  Py_ssize_t sblk, const int32_t *rl, const double *rv,
                                  const int32_t *rs, const double *dout, Py_ssize_t ldd,
                                  double *dW, int32_t *lidx, double *lval, Py_ssize_t cap,
                                  int add)
    void affine_grad_w_rows_xf_wf(Py_ssize_t G, Py_ssize_t I, Py_ssize_t O, Py_ssize_t q,
                                  Py_ssize_t sblk, const int32_t *rl, const float *rv,
                                  const int32_t *rs, const float *dout, Py_ssize_t ldd,
                                  float *dW, int32_t *lidx, float *lval, Py_ssize_t cap,
                                  int add)
    void affine_grad_b_xf_wd(const double *dout, Py_ssize_t ldd, double *db, Py_ssize_t B,
                             Py_ssize_t O)
    void affine_grad_b_xf_wf(const float *dout, Py_ssize_t ldd, float *db, Py_ssize_t B,
                             Py_ssize_t O)

ctypedef fused wfloat:
    float
    double

# Multiply-adds per thread below which one thread does the whole product.
cdef Py_ssize_t MIN_WORK = 200000
# Columns of x (rows of dW) per unit of work of the weight gradient: a
# multiple of 8, so that the AVX2 scans of nonzero_index.h meet every block's
# first column (TwoLayerNet's gradient takes the same).
cdef Py_ssize_t SBLK = 112
# Rows of x whose lists are made, and turned into dW's terms, at a time
# (bounds the lists at any batch size).
cdef Py_ssize_t GROUP = 128


def finite(const wfloat[::1] a):
    """True when every entry of a is finite."""
    cdef bint ok
    with nogil:
        if wfloat is double:
            ok = not cnet_any_nonfinite_f64(a.shape[0], &a[0]) if a.shape[0] else True
        else:
            ok = not cnet_any_nonfinite_f32(a.shape[0], &a[0]) if a.shape[0] else True
    return ok


def forward(cnp.ndarray x, Py_ssize_t xs, const wfloat[:, ::1] W,
            const wfloat[::1] b, wfloat[:, ::1] out, bint skip_zeros,
            unsigned char[:, ::1] mask=None):
    """out = x·W + b, and ReLU of it with mask = (x·W + b <= 0) when mask is
    given: affine_forward_chunk_* (affine_impl.h), CNET_AFFINE_RC rows at a time.

    x : (B, I) float32 (or float64 with float64 W), rows xs elements apart,
        unit column stride, aligned, IN
    W : (I, O), IN; b : (O,), IN; out : (B, O), OUT; mask : (B, O) or None, OUT
    skip_zeros : leave out zero inputs (only when W is finite)
    """
    cdef Py_ssize_t B = out.shape[0], I = W.shape[0], O = W.shape[1]
    cdef Py_ssize_t nblk = (B + CNET_AFFINE_RC - 1) // CNET_AFFINE_RC, blk, r0, R, rn
    cdef int nt = cnet_threads_for(<size_t>(B * I * O // (5 if skip_zeros else 1)), MIN_WORK)
    cdef int epilogue = CNET_AFFINE_BIAS if mask is None else CNET_AFFINE_BIAS_RELU
    cdef unsigned char *mp = NULL
    cdef int32_t *idx
    cdef void *xval
    cdef wfloat *val
    cdef Py_ssize_t *nz
    cdef bint x32 = x.descr.type_num == cnp.NPY_FLOAT
    cdef size_t xsize = sizeof(float) if x32 else sizeof(double)
    # a batch larger than the caches: each chunk prefetches the next one's rows
    cdef bint prefetch = <size_t>B * I * xsize > CNET_AFFINE_PF_BYTES
    cdef const char *xc = <const char *>cnp.PyArray_DATA(x)
    cdef const char *pf
    cdef const char *pf_end
    if wfloat is float and not x32:
        raise TypeError("float64 input with float32 weights has no compiled path")
    if B == 0:
        return
    if mask is not None:
        mp = &mask[0, 0]
    with nogil, parallel(num_threads=nt):
        # A chunk's lists of inputs take I + 8 entries a row (nonzero_index.h).
        idx = <int32_t *>malloc(CNET_AFFINE_RC * (I + 8) * sizeof(int32_t))
        xval = malloc(CNET_AFFINE_RC * (I + 8) * xsize)
        val = <wfloat *>malloc(CNET_AFFINE_RC * (I + 8) * sizeof(wfloat))
        nz = <Py_ssize_t *>malloc(CNET_AFFINE_RC * sizeof(Py_ssize_t))
        if idx != NULL and xval != NULL and val != NULL and nz != NULL:
            for blk in prange(nblk, schedule="static"):
                r0 = blk * CNET_AFFINE_RC
                R = min(CNET_AFFINE_RC, B - r0)
                pf = NULL
                pf_end = NULL
                if prefetch and r0 + R < B:
                    rn = min(CNET_AFFINE_RC, B - r0 - R)
                    pf = xc + (r0 + R) * xs * <Py_ssize_t>xsize
                    pf_end = xc + ((r0 + R + rn - 1) * xs + I) * <Py_ssize_t>xsize
                if wfloat is double:
                    if x32:
                        affine_forward_chunk_xf_wd(R, <const float *>xc + r0 * xs, xs, &W[0, 0],
                                                   O, &b[0], &out[r0, 0],
                                                   mp + r0 * O if mp != NULL else NULL, I, O,
                                                   epilogue, not skip_zeros, idx,
                                                   <float *>xval, nz, NULL, 1, val, pf, pf_end)
                    else:
                        affine_forward_chunk_xd_wd(R, <const double *>xc + r0 * xs, xs,
                                                   &W[0, 0], O, &b[0], &out[r0, 0],
                                                   mp + r0 * O if mp != NULL else NULL, I, O,
                                                   epilogue, not skip_zeros, idx,
                                                   <double *>xval, nz, NULL, 1, val, pf, pf_end)
                else:
                    affine_forward_chunk_xf_wf(R, <const float *>xc + r0 * xs, xs, &W[0, 0], O,
                                               &b[0], &out[r0, 0],
                                               mp + r0 * O if mp != NULL else NULL, I, O,
                                               epilogue, not skip_zeros, idx, <float *>xval,
                                               nz, NULL, 1, val, pf, pf_end)
        free(idx)
        free(xval)
        free(val)
        free(nz)


def grad_w(cnp.ndarray x, Py_ssize_t xs, const wfloat[:, ::1] dout,
           wfloat[:, ::1] dW, wfloat[::1] db, bint skip_zeros):
    """dW = xᵀ·dout and db = column sums of dout (see affine_impl.h).

    x : (B, I) as for forward, IN; dout : (B, O), IN; dW : (I, O), OUT;
    db : (O,), OUT. skip_zeros: leave out zero inputs (only when dout is finite).

    GROUP rows at a time: their lists of inputs (affine_row_lists_*, split over
    threads by rows), then their share of dW by blocks of SBLK columns
    (affine_grad_w_rows_*, split over threads by blocks), each added to the
    share of the rows before: every dW[i, :] is summed over ascending rows.
    """
    cdef Py_ssize_t B = dout.shape[0], I = dW.shape[0], O = dW.shape[1]
    cdef Py_ssize_t nblk = (I + SBLK - 1) // SBLK, S = nblk + 1, G1 = min(B, GROUP)
    cdef Py_ssize_t c0, G, r, q, k, j
    cdef int nt = cnet_threads_for(<size_t>(B * I * O // (5 if skip_zeros else 1)), MIN_WORK)
    cdef bint x32 = x.descr.type_num == cnp.NPY_FLOAT
    cdef size_t xsize = sizeof(float) if x32 else sizeof(double)
    cdef const char *xc = <const char *>cnp.PyArray_DATA(x)
    cdef const wfloat *dp = &dout[0, 0] if B else NULL
    cdef int32_t *rl = NULL
    cdef void *rv = NULL
    cdef int32_t *rs = NULL
    cdef Py_ssize_t *nz = NULL
    cdef int32_t *lidx
    cdef wfloat *lval
    if wfloat is float and not x32:
        raise TypeError("float64 input with float32 weights has no compiled path")
    if I == 0 or O == 0:
        return
    if B == 0:
        for k in range(I):
            for j in range(O):
                dW[k, j] = 0
        for j in range(O):
            db[j] = 0
        return
    # the lists of the GROUP rows: I + 8 entries a row (nonzero_index.h)
    rl = <int32_t *>malloc(G1 * (I + 8) * sizeof(int32_t))
    rv = malloc(G1 * (I + 8) * xsize)
    rs = <int32_t *>malloc(G1 * S * sizeof(int32_t))
    nz = <Py_ssize_t *>malloc(G1 * sizeof(Py_ssize_t))
    try:
        if rl == NULL or rv == NULL or rs == NULL or nz == NULL:
            raise MemoryError("Affine.backward: no memory for the lists of x's inputs")
        with nogil:
            c0 = 0
            while c0 < B:
                G = min(GROUP, B - c0)
                for r in prange(G, num_threads=nt, schedule="static"):
                    if x32:
                        affine_row_lists_xf_wd(1, <const float *>xc + (c0 + r) * xs, xs, I,
                                               not skip_zeros, rl + r * (I + 8),
                                               <float *>rv + r * (I + 8), nz + r, rs + r * S,
                                               SBLK)
                    else:
                        affine_row_lists_xd_wd(1, <const double *>xc + (c0 + r) * xs, xs, I,
                                               not skip_zeros, rl + r * (I + 8),
                                               <double *>rv + r * (I + 8), nz + r, rs + r * S,
                                               SBLK)
                with parallel(num_threads=nt):
                    lidx = <int32_t *>malloc(SBLK * G * sizeof(int32_t))
                    lval = <wfloat *>malloc(SBLK * G * sizeof(wfloat))
                    if lidx != NULL and lval != NULL:
                        # blocks dynamically: a digit's ink is not spread evenly
                        for q in prange(nblk, schedule="dynamic"):
                            if wfloat is double:
                                if x32:
                                    affine_grad_w_rows_xf_wd(G, I, O, q, SBLK, rl,
                                                             <const float *>rv, rs,
                                                             dp + c0 * O, O, &dW[0, 0], lidx,
                                                             lval, G, c0 > 0)
                                else:
                                    affine_grad_w_rows_xd_wd(G, I, O, q, SBLK, rl,
                                                             <const double *>rv, rs,
                                                             dp + c0 * O, O, &dW[0, 0], lidx,
                                                             lval, G, c0 > 0)
                            else:
                                affine_grad_w_rows_xf_wf(G, I, O, q, SBLK, rl,
                                                         <const float *>rv, rs, dp + c0 * O, O,
                                                         &dW[0, 0], lidx, lval, G, c0 > 0)
                    else:
                        nz[0] = -1  # no scratch: reported below
                    free(lidx)
                    free(lval)
                if nz[0] < 0:
                    break
                c0 += G
            if nz[0] >= 0:
                if wfloat is double:
                    affine_grad_b_xf_wd(dp, O, &db[0], B, O)
                else:
                    affine_grad_b_xf_wf(dp, O, &db[0], B, O)
        if nz[0] < 0:
            raise MemoryError("Affine.backward: no memory for the column lists")
    finally:
        free(rl)
        free(rv)
        free(rs)
        free(nz)
