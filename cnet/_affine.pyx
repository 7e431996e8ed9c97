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
    void affine_grad_w_cols_xf_wd(const float *x, Py_ssize_t xs, const double *dout,
                                  double *dW, Py_ssize_t B, Py_ssize_t k0, Py_ssize_t k1,
                                  Py_ssize_t O, int skip_zeros)
    void affine_grad_w_cols_xd_wd(const double *x, Py_ssize_t xs, const double *dout,
                                  double *dW, Py_ssize_t B, Py_ssize_t k0, Py_ssize_t k1,
                                  Py_ssize_t O, int skip_zeros)
    void affine_grad_w_cols_xf_wf(const float *x, Py_ssize_t xs, const float *dout,
                                  float *dW, Py_ssize_t B, Py_ssize_t k0, Py_ssize_t k1,
                                  Py_ssize_t O, int skip_zeros)
    void affine_column_counts_xf_wd(const float *x, Py_ssize_t xs, Py_ssize_t B,
                                    Py_ssize_t I, int skip_zeros, int *cstart)
    void affine_column_counts_xd_wd(const double *x, Py_ssize_t xs, Py_ssize_t B,
                                    Py_ssize_t I, int skip_zeros, int *cstart)
    void affine_column_lists_xf_wd(const float *x, Py_ssize_t xs, Py_ssize_t B, Py_ssize_t I,
                                   int skip_zeros, const int *cstart, int *crow, float *cval,
                                   int *pos, int *idx, float *val)
    void affine_column_lists_xd_wd(const double *x, Py_ssize_t xs, Py_ssize_t B,
                                   Py_ssize_t I, int skip_zeros, const int *cstart,
                                   int *crow, double *cval, int *pos, int *idx, double *val)
    void affine_grad_w_lists_xf_wd(const int *cstart, const int *crow, const float *cval,
                                   const double *dout, double *dW, Py_ssize_t k0,
                                   Py_ssize_t k1, Py_ssize_t O)
    void affine_grad_w_lists_xd_wd(const int *cstart, const int *crow, const double *cval,
                                   const double *dout, double *dW, Py_ssize_t k0,
                                   Py_ssize_t k1, Py_ssize_t O)
    void affine_grad_w_lists_xf_wf(const int *cstart, const int *crow, const float *cval,
                                   const float *dout, float *dW, Py_ssize_t k0,
                                   Py_ssize_t k1, Py_ssize_t O)
    void affine_grad_b_xf_wd(const double *dout, Py_ssize_t ldd, double *db, Py_ssize_t B,
                             Py_ssize_t O)
    void affine_grad_b_xf_wf(const float *dout, Py_ssize_t ldd, float *db, Py_ssize_t B,
                             Py_ssize_t O)

ctypedef fused wfloat:
    float
    double

# Multiply-adds per thread below which one thread does the whole product.
cdef Py_ssize_t MIN_WORK = 200000
# Columns of x (rows of dW) per unit of work of the weight gradient.
cdef Py_ssize_t COLS = 64
# Entries of x (B * I) up to which the weight gradient lists each input's
# rows first (12 bytes an entry at most) and gathers rows of dout by them.
cdef Py_ssize_t LIST_ENTRIES = 1 << 22


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
    """
    cdef Py_ssize_t B = dout.shape[0], I = dW.shape[0], O = dW.shape[1]
    cdef Py_ssize_t nblk = (I + COLS - 1) // COLS, blk, k0, k1
    cdef int nt = cnet_threads_for(<size_t>(B * I * O // (5 if skip_zeros else 1)), MIN_WORK)
    cdef bint x32 = x.descr.type_num == cnp.NPY_FLOAT
    cdef const float *xf = <const float *>cnp.PyArray_DATA(x)
    cdef const double *xd = <const double *>cnp.PyArray_DATA(x)
    cdef const wfloat *dp = &dout[0, 0] if B else NULL
    if wfloat is float and not x32:
        raise TypeError("float64 input with float32 weights has no compiled path")
    if I == 0 or O == 0:
        return
    if B > 0 and B * I <= LIST_ENTRIES and _grad_w_lists(x32, xf, xd, xs, dp, &dW[0, 0],
                                                         B, I, O, skip_zeros, nt):
        with nogil:
            if wfloat is double:
                affine_grad_b_xf_wd(dp, O, &db[0], B, O)
            else:
                affine_grad_b_xf_wf(dp, O, &db[0], B, O)
        return
    with nogil:
        for blk in prange(nblk, num_threads=nt, schedule="static"):
            k0 = blk * COLS
            k1 = min(k0 + COLS, I)
            if wfloat is double:
                if x32:
                    affine_grad_w_cols_xf_wd(xf, xs, dp, &dW[0, 0], B, k0, k1, O, skip_zeros)
                else:
                    affine_grad_w_cols_xd_wd(xd, xs, dp, &dW[0, 0], B, k0, k1, O, skip_zeros)
            else:
                affine_grad_w_cols_xf_wf(xf, xs, dp, &dW[0, 0], B, k0, k1, O, skip_zeros)
        if wfloat is double:
            affine_grad_b_xf_wd(dp, O, &db[0], B, O)
        else:
            affine_grad_b_xf_wf(dp, O, &db[0], B, O)


cdef bint _grad_w_lists(bint x32, const float *xf, const double *xd, Py_ssize_t xs,
                        const wfloat *dp, wfloat *dW, Py_ssize_t B, Py_ssize_t I,
                        Py_ssize_t O, bint skip_zeros, int nt) noexcept:
    """dW = xᵀ·dout by the column lists of x (affine_impl.h); False when the
    scratch could not be allocated (the caller then takes the other path)."""
    cdef int *cstart = <int *>malloc((I + 1) * sizeof(int))
    cdef int *pos = <int *>malloc(I * sizeof(int) + 1)
    cdef int *idx = <int *>malloc((I + 8) * sizeof(int))
    cdef void *val = malloc((I + 8) * sizeof(double))
    cdef int *crow = NULL
    cdef void *cval = NULL
    cdef Py_ssize_t nblk = (I + COLS - 1) // COLS, blk, k0, k1, total
    cdef bint ok = False
    with nogil:
        if cstart != NULL and pos != NULL and idx != NULL and val != NULL:
            if x32:
                affine_column_counts_xf_wd(xf, xs, B, I, skip_zeros, cstart)
            else:
                affine_column_counts_xd_wd(xd, xs, B, I, skip_zeros, cstart)
            total = cstart[I]
            crow = <int *>malloc(total * sizeof(int) + 1)
            cval = malloc(total * (sizeof(float) if x32 else sizeof(double)) + 1)
        if crow != NULL and cval != NULL:
            ok = True
            if x32:
                affine_column_lists_xf_wd(xf, xs, B, I, skip_zeros, cstart, crow,
                                          <float *>cval, pos, idx, <float *>val)
            else:
                affine_column_lists_xd_wd(xd, xs, B, I, skip_zeros, cstart, crow,
                                          <double *>cval, pos, idx, <double *>val)
            for blk in prange(nblk, num_threads=nt, schedule="static"):
                k0 = blk * COLS
                k1 = min(k0 + COLS, I)
                if wfloat is double:
                    if x32:
                        affine_grad_w_lists_xf_wd(cstart, crow, <const float *>cval, dp,
                                                  dW, k0, k1, O)
                    else:
                        affine_grad_w_lists_xd_wd(cstart, crow, <const double *>cval,
                                                  dp, dW, k0, k1, O)
                else:
                    affine_grad_w_lists_xf_wf(cstart, crow, <const float *>cval, dp, dW,
                                              k0, k1, O)
        free(cstart)
        free(pos)
        free(idx)
        free(val)
        free(crow)
        free(cval)
    return ok
