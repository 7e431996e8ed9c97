# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled loop of the book's numerical gradient (private; see cnet.gradient).

The loop walks every element of x in C order, whatever x's memory layout,
perturbs it in place in x's own memory (f usually reads that same array),
calls f twice and restores the element, also when f raises.
"""
from libc.string cimport memcpy
from libc.stdlib cimport malloc, free

import numpy as np
cimport numpy as cnp

cnp.import_array()

# The book's step.
cdef double H = 1e-4


cdef inline double _central(object fxh1, object fxh2) except? -1.0:
    """(fxh1 - fxh2) / (2 * h) with the book's arithmetic: in double for Python
    floats and float64 (a float subclass), else NumPy's own (float32 stays
    float32)."""
    if type(fxh1) is float or isinstance(fxh1, float):
        if type(fxh2) is float or isinstance(fxh2, float):
            return ((<double>fxh1) - (<double>fxh2)) / (2 * H)
    d = (fxh1 - fxh2) / (2 * H)
    a = np.asarray(d)
    if a.size != 1:
        raise ValueError("numerical_gradient: f must return a scalar, got an array of "
                         "shape %s" % (a.shape,))
    return float(a.reshape(()))


def central_differences(f, object x_arg, cnp.ndarray x, cnp.ndarray grad):
    """grad[idx] = (f(x + h e_idx) - f(x - h e_idx)) / (2h) for every idx of x in C
    order, h = 1e-4.

    x (IN/OUT, float32 or float64, any shape and strides, writeable) is
    perturbed in place and each element restored before the next, also when f
    raises; f is called as f(x_arg). grad (OUT, x's shape) has x's dtype.
    """
    cdef int ndim = x.ndim
    cdef Py_ssize_t n = x.size
    cdef Py_ssize_t k, d
    cdef Py_ssize_t *idx
    cdef char *xp = <char *>cnp.PyArray_DATA(x)
    cdef char *gp = <char *>cnp.PyArray_DATA(grad)
    cdef cnp.npy_intp *shape = x.shape
    cdef cnp.npy_intp *xst = x.strides
    cdef cnp.npy_intp *gst = grad.strides
    cdef Py_ssize_t xoff = 0, goff = 0
    cdef bint is64 = x.descr.itemsize == 8
    cdef double v64, w64, g
    cdef float v32, w32, g32
    if n == 0:
        return grad
    idx = <Py_ssize_t *>malloc((ndim + 1) * sizeof(Py_ssize_t))
    if idx == NULL:
        raise MemoryError()
    try:
        for d in range(ndim):
            idx[d] = 0
        for k in range(n):
            # memcpy: x may be misaligned (a view into a packed buffer).
            if is64:
                memcpy(&v64, xp + xoff, 8)
                try:
                    w64 = v64 + H
                    memcpy(xp + xoff, &w64, 8)
                    fxh1 = f(x_arg)
                    w64 = v64 - H
                    memcpy(xp + xoff, &w64, 8)
                    fxh2 = f(x_arg)
                finally:
                    memcpy(xp + xoff, &v64, 8)
                g = _central(fxh1, fxh2)
                memcpy(gp + goff, &g, 8)
            else:
                memcpy(&v32, xp + xoff, 4)
                try:
                    # The book: float(v) + h rounded to float32, then the
                    # float32 difference v - h.
                    w32 = <float>(<double>v32 + H)
                    memcpy(xp + xoff, &w32, 4)
                    fxh1 = f(x_arg)
                    w32 = v32 - <float>H
                    memcpy(xp + xoff, &w32, 4)
                    fxh2 = f(x_arg)
                finally:
                    memcpy(xp + xoff, &v32, 4)
                g32 = <float>_central(fxh1, fxh2)
                memcpy(gp + goff, &g32, 4)
            # Next index in C order (an odometer over the shape).
            d = ndim - 1
            while d >= 0:
                idx[d] += 1
                xoff += xst[d]
                goff += gst[d]
                if idx[d] < shape[d]:
                    break
                xoff -= xst[d] * shape[d]
                goff -= gst[d] * shape[d]
                idx[d] = 0
                d -= 1
    finally:
        free(idx)
    return grad
