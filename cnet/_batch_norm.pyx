# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of the batch-normalization layer (private;
cnet.layers.BatchNormalization).

Arguments arrive checked by cnet.layers.batch_norm: (N, D) float64
C-contiguous arrays with N >= 1, (D,) float64 contiguous per-feature arrays.
Large inputs are split by blocks of columns over threads; every column is
computed whole by one thread, so results do not depend on the thread count.
"""
from cython.parallel cimport prange

from cnet._config cimport cnet_threads_for

cdef extern from "batch_norm.h" nogil:
    void bn_forward_train(const double *x, double *xc, double *xn, double *out,
                          double *std, const double *rmean0, const double *rvar0,
                          double *rmean, double *rvar, const double *gamma,
                          const double *beta, double eps, double momentum, double keep,
                          Py_ssize_t N, Py_ssize_t D, Py_ssize_t j0, Py_ssize_t j1)
    void bn_forward_test(const double *x, double *out, const double *rmean,
                         const double *rvar, const double *gamma, const double *beta,
                         double eps, double *sd, Py_ssize_t N, Py_ssize_t D, Py_ssize_t j0,
                         Py_ssize_t j1)
    void bn_backward(const double *dout, const double *xc, const double *xn,
                     const double *std, const double *gamma, double *dx, double *dgamma,
                     double *dbeta, double *acc, Py_ssize_t N, Py_ssize_t D, Py_ssize_t j0,
                     Py_ssize_t j1)

# Columns per unit of work handed to a thread (a multiple of the vector width).
cdef Py_ssize_t COLS = 64
# Elements below which one thread does the whole layer.
cdef Py_ssize_t MIN_WORK = 65536


def forward_train(const double[:, ::1] x, double[:, ::1] xc, double[:, ::1] xn,
                  double[:, ::1] out, double[::1] std, const double[::1] rmean0,
                  const double[::1] rvar0, double[::1] rmean, double[::1] rvar,
                  const double[::1] gamma, const double[::1] beta, double eps,
                  double momentum, double keep):
    """The training forward (batch_norm.h); rmean and rvar are new arrays."""
    cdef Py_ssize_t N = x.shape[0], D = x.shape[1], nb = (D + COLS - 1) // COLS, blk
    cdef int nt = cnet_threads_for(<size_t>(N * D), MIN_WORK)
    if N == 0 or D == 0:
        return
    with nogil:
        for blk in prange(nb, num_threads=nt, schedule="static"):
            bn_forward_train(&x[0, 0], &xc[0, 0], &xn[0, 0], &out[0, 0], &std[0],
                             &rmean0[0], &rvar0[0], &rmean[0], &rvar[0], &gamma[0],
                             &beta[0], eps, momentum, keep, N, D, blk * COLS,
                             min(D, blk * COLS + COLS))


def forward_test(const double[:, ::1] x, double[:, ::1] out, const double[::1] rmean,
                 const double[::1] rvar, const double[::1] gamma, const double[::1] beta,
                 double eps, double[::1] sd):
    """The testing forward with the running statistics (batch_norm.h)."""
    cdef Py_ssize_t N = x.shape[0], D = x.shape[1], nb = (D + COLS - 1) // COLS, blk
    cdef int nt = cnet_threads_for(<size_t>(N * D), MIN_WORK)
    if N == 0 or D == 0:
        return
    with nogil:
        for blk in prange(nb, num_threads=nt, schedule="static"):
            bn_forward_test(&x[0, 0], &out[0, 0], &rmean[0], &rvar[0], &gamma[0], &beta[0],
                            eps, &sd[0], N, D, blk * COLS, min(D, blk * COLS + COLS))


def backward(const double[:, ::1] dout, const double[:, ::1] xc, const double[:, ::1] xn,
             const double[::1] std, const double[::1] gamma, double[:, ::1] dx,
             double[::1] dgamma, double[::1] dbeta, double[::1] acc):
    """dx, dgamma and dbeta (batch_norm.h)."""
    cdef Py_ssize_t N = dout.shape[0], D = dout.shape[1], nb = (D + COLS - 1) // COLS, blk
    cdef int nt = cnet_threads_for(<size_t>(N * D), MIN_WORK)
    if N == 0 or D == 0:
        return
    with nogil:
        for blk in prange(nb, num_threads=nt, schedule="static"):
            bn_backward(&dout[0, 0], &xc[0, 0], &xn[0, 0], &std[0], &gamma[0], &dx[0, 0],
                        &dgamma[0], &dbeta[0], &acc[0], N, D, blk * COLS,
                        min(D, blk * COLS + COLS))
