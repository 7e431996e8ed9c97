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


cdef enum:
    TRAIN = 0
    TEST = 1
    BACKWARD = 2


cdef void _columns(int op, const double *a, const double *b, const double *c,
                   const double *d, const double *e, double *o1, double *o2, double *o3,
                   double *o4, double *o5, double *o6, double eps,
                   double momentum, double keep, Py_ssize_t N,
                   Py_ssize_t D) noexcept nogil:
    """One kernel over all columns, in blocks of COLS spread over threads (the
    arrays' roles as in the entries below)."""
    cdef Py_ssize_t nb = (D + COLS - 1) // COLS, blk, j0, j1
    for blk in prange(nb, num_threads=cnet_threads_for(<size_t>(N * D), MIN_WORK),
                      schedule="static"):
        j0 = blk * COLS
        j1 = min(D, j0 + COLS)
        if op == TRAIN:
            bn_forward_train(a, o1, o2, o3, o4, b, c, o5, o6, d, e, eps, momentum, keep, N, D,
                             j0, j1)
        elif op == TEST:
            bn_forward_test(a, o1, b, c, d, e, eps, o2, N, D, j0, j1)
        else:
            bn_backward(a, b, c, d, e, o1, o2, o3, o4, N, D, j0, j1)


def forward_train(const double[:, ::1] x, double[:, ::1] xc, double[:, ::1] xn,
                  double[:, ::1] out, double[::1] std, const double[::1] rmean0,
                  const double[::1] rvar0, double[::1] rmean, double[::1] rvar,
                  const double[::1] gamma, const double[::1] beta, double eps,
                  double momentum, double keep):
    """The training forward (batch_norm.h); rmean and rvar are new arrays."""
    if x.shape[0] and x.shape[1]:
        with nogil:
            _columns(TRAIN, &x[0, 0], &rmean0[0], &rvar0[0], &gamma[0], &beta[0], &xc[0, 0],
                     &xn[0, 0], &out[0, 0], &std[0], &rmean[0], &rvar[0], eps, momentum,
                     keep, x.shape[0], x.shape[1])


def forward_test(const double[:, ::1] x, double[:, ::1] out, const double[::1] rmean,
                 const double[::1] rvar, const double[::1] gamma, const double[::1] beta,
                 double eps, double[::1] sd):
    """The testing forward with the running statistics (batch_norm.h)."""
    if x.shape[0] and x.shape[1]:
        with nogil:
            _columns(TEST, &x[0, 0], &rmean[0], &rvar[0], &gamma[0], &beta[0], &out[0, 0],
                     &sd[0], NULL, NULL, NULL, NULL, eps, 0, 0, x.shape[0], x.shape[1])


def backward(const double[:, ::1] dout, const double[:, ::1] xc, const double[:, ::1] xn,
             const double[::1] std, const double[::1] gamma, double[:, ::1] dx,
             double[::1] dgamma, double[::1] dbeta, double[::1] acc):
    """dx, dgamma and dbeta (batch_norm.h)."""
    if dout.shape[0] and dout.shape[1]:
        with nogil:
            _columns(BACKWARD, &dout[0, 0], &xc[0, 0], &xn[0, 0], &std[0], &gamma[0],
                     &dx[0, 0], &dgamma[0], &dbeta[0], &acc[0], NULL, NULL, 0, 0, 0,
                     dout.shape[0], dout.shape[1])
