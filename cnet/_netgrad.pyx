# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The book's numerical gradient of TwoLayerNet, incremental (private).

The kernel lives in csrc/netgrad.c; this module checks the arrays, since the C
code trusts every shape, dtype and label it is given.
"""
from time import perf_counter

import numpy as np

cimport numpy as cnp
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport intptr_t

from cnet._config cimport cnet_get_num_threads

cnp.import_array()


cdef extern from "netgrad.h" nogil:
    ctypedef struct cnet_numgrad:
        pass
    size_t cnet_numgrad_scratch(Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                                Py_ssize_t nnz, int x_f32, int nthreads)
    cnet_numgrad *cnet_numgrad_new(const void *x, int x_f32, const intptr_t *t,
                                   Py_ssize_t B, Py_ssize_t I, Py_ssize_t H, Py_ssize_t O,
                                   Py_ssize_t nnz, const double *W1, const double *b1,
                                   const double *W2, const double *b2, int params_f32,
                                   int nthreads, void *scratch)
    void cnet_numgrad_run(cnet_numgrad *n, Py_ssize_t b0, Py_ssize_t b1, Py_ssize_t c0,
                          Py_ssize_t c1, Py_ssize_t j0, Py_ssize_t j1, double *gW1,
                          double *gb1, double *gW2, double *gb2)

# The work is done in chunks, with a look for Ctrl-C (PyErr_CheckSignals,
# with the GIL) after each. A gradient of at most SMALL_WORK multiply-adds
# (the book's 784-50-10 with 100 rows) is one chunk, one parallel region.
# Otherwise each step (the rows' forward pass, W1's columns, W2's rows) runs
# in chunks that start at about FIRST_CHUNK_WORK multiply-adds, grow while a
# chunk takes less than half of CHUNK_SECONDS and shrink above twice, so a
# KeyboardInterrupt arrives within about CHUNK_SECONDS and the looks cost
# nothing measurable.
CHUNK_SECONDS = 0.04
cdef Py_ssize_t FIRST_CHUNK_WORK = 1 << 22
cdef Py_ssize_t SMALL_WORK = 1 << 24

cdef enum:
    ROWS, COLUMNS, OUTPUTS


cdef void _chunk(cnet_numgrad *n, int step, Py_ssize_t a, Py_ssize_t b, double *gW1,
                 double *gb1, double *gW2, double *gb2) noexcept nogil:
    if step == ROWS:
        cnet_numgrad_run(n, a, b, 0, 0, 0, 0, gW1, gb1, gW2, gb2)
    elif step == COLUMNS:
        cnet_numgrad_run(n, 0, 0, a, b, 0, 0, gW1, gb1, gW2, gb2)
    else:
        cnet_numgrad_run(n, 0, 0, 0, 0, a, b, gW1, gb1, gW2, gb2)


cdef int _run_step(cnet_numgrad *n, int step, Py_ssize_t count, Py_ssize_t unit_work,
                   double *gW1, double *gb1, double *gW2, double *gb2) except -1:
    """Run step over items [0, count) in chunks, answering Ctrl-C between
    them; unit_work estimates the multiply-adds of one item."""
    cdef Py_ssize_t pos = 0, end
    cdef Py_ssize_t size = max(1, FIRST_CHUNK_WORK // max(1, unit_work))
    cdef double seconds = CHUNK_SECONDS
    while pos < count:
        end = pos + size if count - pos > size else count
        started = perf_counter()
        with nogil:
            _chunk(n, step, pos, end, gW1, gb1, gW2, gb2)
        PyErr_CheckSignals()
        took = perf_counter() - started
        pos = end
        if took < seconds / 2:
            size *= 2
        elif took > seconds * 2 and size > 1:
            size //= 2
    return 0


cdef _check_array(name, a, int ndim, dtypes, expected):
    """a as an ndarray of ndim dims, C-contiguous, of one of dtypes, or raise."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy.ndarray, got %s" % (name, type(a).__name__))
    if a.ndim != ndim:
        raise ValueError("%s must be %s, got shape %s" % (name, expected, a.shape))
    if a.dtype not in dtypes:
        raise TypeError("%s must have dtype %s, got %s"
                        % (name, " or ".join(str(np.dtype(d)) for d in dtypes), a.dtype))
    if not a.flags.c_contiguous:
        raise ValueError("%s must be C-contiguous" % name)
    if not a.flags.aligned:
        raise ValueError("%s must be aligned (np.require(a, requirements='A'))" % name)
    return a


def numerical_gradient(x, t, W1, b1, W2, b2):
    """The book's central-difference gradient of TwoLayerNet's loss.

    For every parameter the loss is evaluated with the parameter stored as
    ``v + h`` and as ``v - h`` (``h = 1e-4``), exactly as
    ``TwoLayerNet.numerical_gradient`` does, and ``(f+ - f-) / (2 h)`` is
    returned; only the part of the network a parameter reaches is
    re-evaluated. The loss is evaluated in float64 for both weight dtypes.

    Parameters
    ----------
    x : ndarray, shape (B, I), float32 or float64, C-contiguous
        IN. The batch; a float32 batch is read as float32 (no copy).
    t : ndarray, shape (B,), intp, C-contiguous
        IN. Class indices in ``[0, O)``.
    W1 : ndarray, shape (I, H), float64 or float32, C-contiguous
        IN.
    b1 : ndarray, shape (H,), same dtype as W1
        IN.
    W2 : ndarray, shape (H, O), same dtype as W1
        IN.
    b2 : ndarray, shape (O,), same dtype as W1
        IN.

    Returns
    -------
    gW1, gb1, gW2, gb2 : tuple of new ndarrays
        OUT. Shapes of W1, b1, W2, b2, dtype of W1. For float32 weights the
        perturbed values are rounded as a float32 array stores them (the
        book's ``v + h`` stored in float32, ``v - h`` computed in float32) and
        the gradient, computed in float64, is rounded to float32 at the end.

    Raises
    ------
    TypeError
        An argument is not an ndarray or has the wrong dtype.
    ValueError
        Wrong shapes, non-contiguous arrays, an empty batch or a label out of
        range.
    MemoryError
        Scratch memory could not be allocated (NumPy's).
    KeyboardInterrupt
        Ctrl-C, answered within about CHUNK_SECONDS; no argument is changed.
    """
    cdef Py_ssize_t B, I, H, O, b
    cdef const intptr_t *tp
    cdef intptr_t label
    cdef Py_ssize_t bad = -1

    _check_array("x", x, 2, (np.float32, np.float64), "2-D (B, I)")
    _check_array("t", t, 1, (np.intp,), "1-D (B,) of class indices")
    _check_array("W1", W1, 2, (np.float64, np.float32), "2-D (I, H)")
    wdt = W1.dtype
    _check_array("b1", b1, 1, (wdt,), "1-D (H,)")
    _check_array("W2", W2, 2, (wdt,), "2-D (H, O)")
    _check_array("b2", b2, 1, (wdt,), "1-D (O,)")
    B, I = x.shape[0], x.shape[1]
    H, O = W1.shape[1], W2.shape[1]
    if B < 1:
        raise ValueError("x must hold at least one row, got shape %s" % (x.shape,))
    if W1.shape[0] != I or H < 1:
        raise ValueError("W1 must have shape (I, H) = (%d, H >= 1) for x of shape %s, "
                         "got %s" % (I, x.shape, W1.shape))
    if b1.shape[0] != H:
        raise ValueError("b1 must have shape (%d,), got %s" % (H, b1.shape))
    if W2.shape[0] != H or O < 1:
        raise ValueError("W2 must have shape (%d, O >= 1), got %s" % (H, W2.shape))
    if b2.shape[0] != O:
        raise ValueError("b2 must have shape (%d,), got %s" % (O, b2.shape))
    if t.shape[0] != B:
        raise ValueError("t must have shape (%d,) to match x, got %s" % (B, t.shape))

    tp = <const intptr_t *>cnp.PyArray_DATA(t)
    with nogil:
        for b in range(B):
            label = tp[b]
            if label < 0 or label >= O:
                bad = b
                break
    if bad >= 0:
        raise ValueError("t must hold class indices in [0, %d), got t[%d] = %d"
                         % (O, bad, tp[bad]))
    return numerical_gradient_unchecked(x, t, W1, b1, W2, b2)


def numerical_gradient_unchecked(cnp.ndarray x, cnp.ndarray t, cnp.ndarray W1, cnp.ndarray b1,
                                 cnp.ndarray W2, cnp.ndarray b2):
    """numerical_gradient for arguments its caller has checked (TwoLayerNet:
    one check per public call): the same arrays and the same results, no
    check of shapes, dtypes, layouts or labels here."""
    cdef Py_ssize_t B = x.shape[0], I = x.shape[1], H = W1.shape[1], O = W2.shape[1]
    cdef int x_f32 = x.dtype == np.float32
    cdef int params_f32 = W1.dtype == np.float32
    cdef const intptr_t *tp = <const intptr_t *>cnp.PyArray_DATA(t)
    if params_f32:
        # The float32 values, exact in float64; the kernel rounds the perturbed
        # values back to float32 as the book's float32 arrays would.
        W1d, b1d = W1.astype(np.float64), b1.astype(np.float64)
        W2d, b2d = W2.astype(np.float64), b2.astype(np.float64)
    else:
        W1d, b1d, W2d, b2d = W1, b1, W2, b2
    gW1 = np.empty((I, H), dtype=np.float64)
    gb1 = np.empty(H, dtype=np.float64)
    gW2 = np.empty((H, O), dtype=np.float64)
    gb2 = np.empty(O, dtype=np.float64)

    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const double *W1p = <const double *>cnp.PyArray_DATA(W1d)
    cdef const double *b1p = <const double *>cnp.PyArray_DATA(b1d)
    cdef const double *W2p = <const double *>cnp.PyArray_DATA(W2d)
    cdef const double *b2p = <const double *>cnp.PyArray_DATA(b2d)
    cdef double *gW1p = <double *>cnp.PyArray_DATA(gW1)
    cdef double *gb1p = <double *>cnp.PyArray_DATA(gb1)
    cdef double *gW2p = <double *>cnp.PyArray_DATA(gW2)
    cdef double *gb2p = <double *>cnp.PyArray_DATA(gb2)
    cdef cnet_numgrad *n
    # NaN counts as non-zero, as in the kernels' lists
    cdef Py_ssize_t nnz = np.count_nonzero(x)
    if nnz + B >= 2**31 - 1:
        raise ValueError("x has %d non-zero entries; numerical_gradient lists at most "
                         "2**31 - 2 - B of them" % nnz)
    cdef int nthreads = cnet_get_num_threads()
    # the kernel's scratch, held (with x, t, W1d, b1d, W2d, b2d) by this frame
    # until the last step has run
    scratch = np.empty(cnet_numgrad_scratch(B, I, H, O, nnz, x_f32, nthreads), dtype=np.uint8)
    cdef void *sp = cnp.PyArray_DATA(scratch)
    with nogil:
        n = cnet_numgrad_new(xp, x_f32, tp, B, I, H, O, nnz, W1p, b1p, W2p, b2p, params_f32,
                             nthreads, sp)
    if n == NULL:
        raise RuntimeError("numerical_gradient: x changed while it was read")
    # multiply-adds of one item of each step, with MNIST's density (a fifth
    # of the inputs non-zero) as the guess
    cdef Py_ssize_t row_work = H * (I // 5 + 1 + O), col_work = (B // 5 + 1) * H
    cdef Py_ssize_t out_work = O * B
    if B * row_work + (I + 1) * col_work + (H + 1) * out_work <= SMALL_WORK:
        with nogil:
            cnet_numgrad_run(n, 0, B, 0, I + 1, 0, H + 1, gW1p, gb1p, gW2p, gb2p)
        PyErr_CheckSignals()
    else:
        _run_step(n, ROWS, B, row_work, gW1p, gb1p, gW2p, gb2p)
        _run_step(n, COLUMNS, I + 1, col_work, gW1p, gb1p, gW2p, gb2p)
        _run_step(n, OUTPUTS, H + 1, out_work, gW1p, gb1p, gW2p, gb2p)
    if params_f32:
        return (gW1.astype(np.float32), gb1.astype(np.float32),
                gW2.astype(np.float32), gb2.astype(np.float32))
    return gW1, gb1, gW2, gb2
