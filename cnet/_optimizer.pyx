# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled parameter updates (private; the public API is cnet.optimizer)."""
cimport numpy as cnp

cnp.import_array()

cdef extern from "optimizer.h" nogil:
    enum: CNET_SGD_MAXDIM
    void sgd_update_pd_gd_md(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pf_gf_mf(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pf_gf_md(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pf_gd_md(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pd_gf_mf(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)
    void sgd_update_pd_gf_md(int, const Py_ssize_t *, char *, const Py_ssize_t *,
                             const char *, const Py_ssize_t *, double)

ctypedef void (*sgd_kernel)(int ndim, const Py_ssize_t *shape, char *p,
                            const Py_ssize_t *ps, const char *g,
                            const Py_ssize_t *gs, double lr) noexcept nogil

MAXDIM = CNET_SGD_MAXDIM


def sgd_update(object p, object g, double lr, bint step_in_float64):
    """p -= lr * g in place, rounding exactly as NumPy does.

    Parameters
    ----------
    p : ndarray, float32 or float64, writeable, any shape and strides, IN/OUT
    g : ndarray, float32 or float64, same shape as p, not overlapping p unless
        it is p itself, IN
    lr : float
        The step size (converted to the dtype of lr * g).
    step_in_float64 : bool
        Whether NumPy computes ``lr * g`` in float64 (else in g's dtype, which
        must then be float32).
    """
    if not isinstance(p, cnp.ndarray) or not isinstance(g, cnp.ndarray):
        raise TypeError("p and g must be NumPy arrays")
    cdef cnp.ndarray pa = <cnp.ndarray>p
    cdef cnp.ndarray ga = <cnp.ndarray>g
    cdef bint p64 = p.dtype.num == cnp.NPY_DOUBLE
    cdef bint g64 = g.dtype.num == cnp.NPY_DOUBLE
    cdef sgd_kernel kernel
    cdef int ndim = pa.ndim
    if not (p64 or p.dtype.num == cnp.NPY_FLOAT):
        raise TypeError("p must be float32 or float64, got %s" % p.dtype)
    if not (g64 or g.dtype.num == cnp.NPY_FLOAT):
        raise TypeError("g must be float32 or float64, got %s" % g.dtype)
    if p.shape != g.shape:
        raise ValueError("p and g shapes differ: %s vs %s" % (p.shape, g.shape))
    if ndim > CNET_SGD_MAXDIM:
        raise ValueError("at most %d dimensions are supported" % CNET_SGD_MAXDIM)
    if not p.flags.writeable:
        raise ValueError("p is read-only")
    if g64 and not step_in_float64:
        raise ValueError("a float64 gradient gives a float64 step")
    if p64:
        if g64:
            kernel = sgd_update_pd_gd_md
        elif step_in_float64:
            kernel = sgd_update_pd_gf_md
        else:
            kernel = sgd_update_pd_gf_mf
    else:
        if g64:
            kernel = sgd_update_pf_gd_md
        elif step_in_float64:
            kernel = sgd_update_pf_gf_md
        else:
            kernel = sgd_update_pf_gf_mf
    cdef const Py_ssize_t *shape = <const Py_ssize_t *>cnp.PyArray_DIMS(pa)
    cdef const Py_ssize_t *ps = <const Py_ssize_t *>cnp.PyArray_STRIDES(pa)
    cdef const Py_ssize_t *gs = <const Py_ssize_t *>cnp.PyArray_STRIDES(ga)
    cdef char *pd = <char *>cnp.PyArray_DATA(pa)
    cdef const char *gd = <const char *>cnp.PyArray_DATA(ga)
    with nogil:
        kernel(ndim, shape, pd, ps, gd, gs, lr)
