# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled parameter updates (private; the public API is cnet.optimizer)."""
cimport numpy as cnp
from cpython.mem cimport PyMem_Malloc, PyMem_Free

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

    void decay_gradient_f64(const double *g, const double *W, double lam, double *out,
                            size_t n)
    int decay_keeps_gradient_f64(const double *g, const double *W, double lam, size_t n)

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


# --- Momentum, Nesterov, AdaGrad, RMSprop, Adam -------------------------------
# Each entry takes flat, contiguous, aligned views of one array and its state,
# of one dtype, checked by cnet.optimizer; n is their common length. The work
# is cut into fixed blocks spread over threads; every element is updated by
# one thread with the same arithmetic, so the result does not depend on the
# thread count.

from cython.parallel cimport prange
from cython cimport floating
from cnet._config cimport cnet_threads_for

cdef extern from "cnet_common.h":
    enum: CNET_PARALLEL_MIN

cdef extern from "optimizer.h" nogil:
    void momentum_update_f64(double *, const double *, double *, size_t, double, double)
    void momentum_update_f32(float *, const float *, float *, size_t, float, float)
    void nesterov_update_f64(double *, const double *, double *, size_t, double, double,
                             double, double)
    void nesterov_update_f32(float *, const float *, float *, size_t, float, float,
                             float, float)
    void adagrad_update_f64(double *, const double *, double *, size_t, double, double)
    void adagrad_update_f32(float *, const float *, float *, size_t, float, float)
    void rmsprop_update_f64(double *, const double *, double *, size_t, double, double,
                            double, double)
    void rmsprop_update_f32(float *, const float *, float *, size_t, float, float,
                            float, float)
    void adam_update_f64(double *, const double *, double *, double *, size_t, double,
                         double, double, double, int)
    void adam_update_f32(float *, const float *, float *, float *, size_t, float, float,
                         double, float, int)

# Elements per block: large enough that a block's loop dominates its dispatch.
cdef Py_ssize_t BLOCK = CNET_PARALLEL_MIN
# Elements per thread below which an update runs on one thread. The passes are
# memory-bound and short (Adam over the 78,400 weights of a 784 x 100 layer:
# tens of microseconds on one thread); a second thread saves little on an idle
# machine and on a busy one the team waits for a core (bench/PROFILE_layers.md).
cdef Py_ssize_t MIN_PER_THREAD = 1 << 18


# Which update: the op argument of update().
cdef enum:
    OP_MOMENTUM = 0
    OP_NESTEROV = 1
    OP_ADAGRAD = 2
    OP_RMSPROP = 3
    OP_ADAM = 4

MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM = (OP_MOMENTUM, OP_NESTEROV, OP_ADAGRAD,
                                              OP_RMSPROP, OP_ADAM)


cdef void _update_block(int op, floating *p, const floating *g, floating *s1, floating *s2,
                        Py_ssize_t n, double c0, double c1, double c2, double c3,
                        bint wide) noexcept nogil:
    if floating is double:
        if op == OP_MOMENTUM:
            momentum_update_f64(p, g, s1, n, c0, c1)
        elif op == OP_NESTEROV:
            nesterov_update_f64(p, g, s1, n, c0, c1, c2, c3)
        elif op == OP_ADAGRAD:
            adagrad_update_f64(p, g, s1, n, c0, c1)
        elif op == OP_RMSPROP:
            rmsprop_update_f64(p, g, s1, n, c0, c1, c2, c3)
        else:
            adam_update_f64(p, g, s1, s2, n, c0, c1, c2, c3, wide)
    else:
        if op == OP_MOMENTUM:
            momentum_update_f32(p, g, s1, n, <float>c0, <float>c1)
        elif op == OP_NESTEROV:
            nesterov_update_f32(p, g, s1, n, <float>c0, <float>c1, <float>c2, <float>c3)
        elif op == OP_ADAGRAD:
            adagrad_update_f32(p, g, s1, n, <float>c0, <float>c1)
        elif op == OP_RMSPROP:
            rmsprop_update_f32(p, g, s1, n, <float>c0, <float>c1, <float>c2, <float>c3)
        else:
            adam_update_f32(p, g, s1, s2, n, <float>c0, <float>c1, c2, <float>c3, wide)


def update(int op, floating[::1] p, const floating[::1] g, floating[::1] s1,
           floating[::1] s2, double c0, double c1, double c2, double c3, bint wide):
    """One optimizer's update of p in place (see optimizer_impl.h).

    op : MOMENTUM, NESTEROV, ADAGRAD, RMSPROP or ADAM
    p : parameters, IN/OUT; g : gradients, IN; s1, s2 : state, IN/OUT (s2
        only for Adam: m is s1, v is s2; the others pass s1 twice)
    c0..c3 : the kernel's scalars in its order (momentum, lr / mm, c,
        momentum, lr / lr, eps / decay, keep, lr, eps / k1, k2, lr_t, eps),
        rounded to p's dtype here (lr_t is kept in double for a wide step)
    wide : Adam's step formed in double (float32 arrays)
    """
    cdef Py_ssize_t n = p.shape[0], nb = (n + BLOCK - 1) // BLOCK, b, i0, cnt
    cdef int nt = cnet_threads_for(<size_t>n, MIN_PER_THREAD)
    if op < OP_MOMENTUM or op > OP_ADAM:
        raise ValueError("unknown optimizer op %d" % op)
    if g.shape[0] != n or s1.shape[0] != n or s2.shape[0] != n:
        raise ValueError("p, g and the state must have one length")
    if n == 0:
        return
    with nogil:
        for b in prange(nb, num_threads=nt, schedule="static"):
            i0 = b * BLOCK
            cnt = min(BLOCK, n - i0)
            _update_block(op, &p[i0], &g[i0], &s1[i0], &s2[i0], cnt, c0, c1, c2, c3, wide)


# --- All keys in one call -----------------------------------------------------
# The optimizers' usual case (every parameter, its gradient and its state
# arrays one native float dtype, contiguous in one order, aligned, apart) is
# recognised here in C for all keys at once, so that a small update does not
# pay a Python check per key. Anything else returns False before any array is
# changed, and cnet.optimizer runs its per-key path, which checks and explains.

from cpython.dict cimport PyDict_GetItem, PyDict_Next
from cpython.ref cimport PyObject

# SGD in update_all: p -= lr * g in the arrays' dtype (lr a Python number).
SGD_OP = 5
cdef int OP_SGD = 5


cdef bint _fits(object a, int typenum, int ndim, const cnp.npy_intp *dims, bint c_order,
                bint writeable):
    """a is an ndarray of typenum, native order, aligned, of the given shape,
    contiguous in the given order (and writeable when asked)."""
    if not cnp.PyArray_Check(a):
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_TYPE(arr) != typenum or not cnp.PyArray_ISNOTSWAPPED(arr):
        return False
    if not cnp.PyArray_ISALIGNED(arr) or (writeable and not cnp.PyArray_ISWRITEABLE(arr)):
        return False
    if cnp.PyArray_NDIM(arr) != ndim:
        return False
    cdef const cnp.npy_intp *d = cnp.PyArray_DIMS(arr)
    cdef int k
    for k in range(ndim):
        if d[k] != dims[k]:
            return False
    if c_order:
        return cnp.PyArray_IS_C_CONTIGUOUS(arr)
    return cnp.PyArray_IS_F_CONTIGUOUS(arr)


cdef bint _apart(list arrays):
    """No two arrays' byte extents meet (they are contiguous: extents are exact)."""
    cdef Py_ssize_t i, j, m = len(arrays)
    cdef char *a0
    cdef char *a1
    cdef char *b0
    cdef char *b1
    for i in range(m):
        a0 = <char *>cnp.PyArray_DATA(<cnp.ndarray>arrays[i])
        a1 = a0 + cnp.PyArray_NBYTES(<cnp.ndarray>arrays[i])
        for j in range(i + 1, m):
            b0 = <char *>cnp.PyArray_DATA(<cnp.ndarray>arrays[j])
            b1 = b0 + cnp.PyArray_NBYTES(<cnp.ndarray>arrays[j])
            if a0 < b1 and b0 < a1:
                return False
    return True


cdef void _update_flat(int op, bint f64, char *p, const char *g, char *s1, char *s2,
                       Py_ssize_t n, double c0, double c1, double c2, double c3,
                       bint wide) noexcept nogil:
    """The update of one contiguous array of n elements (see update())."""
    cdef Py_ssize_t nb, b, i0, cnt, one = 1, es = 8 if f64 else 4
    cdef int nt
    if op == OP_SGD:
        # The same kernel as sgd_update on a 1-D walk: the same bits.
        if f64:
            sgd_update_pd_gd_md(1, &n, p, &es, g, &es, c0)
        else:
            sgd_update_pf_gf_mf(1, &n, p, &es, g, &es, c0)
        return
    nt = cnet_threads_for(<size_t>n, MIN_PER_THREAD)
    if nt <= 1:
        # Elementwise: one call over the whole array gives the blocks' bits.
        if f64:
            _update_block(op, <double *>p, <const double *>g, <double *>s1, <double *>s2,
                          n, c0, c1, c2, c3, wide)
        else:
            _update_block(op, <float *>p, <const float *>g, <float *>s1, <float *>s2,
                          n, c0, c1, c2, c3, wide)
        return
    nb = (n + BLOCK - 1) // BLOCK
    for b in prange(nb, num_threads=nt, schedule="static"):
        i0 = b * BLOCK
        cnt = min(BLOCK, n - i0)
        if f64:
            _update_block(op, <double *>p + i0, <const double *>g + i0, <double *>s1 + i0,
                          <double *>s2 + i0, cnt, c0, c1, c2, c3, wide)
        else:
            _update_block(op, <float *>p + i0, <const float *>g + i0, <float *>s1 + i0,
                          <float *>s2 + i0, cnt, c0, c1, c2, c3, wide)


def update_all(int op, object params, object grads, object s1, object s2, double c0,
               double c1, double c2, double c3, bint wide32):
    """Update every array of params in place in one call, or return False
    having changed nothing when some key is outside the usual case.

    op : SGD_OP, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP or ADAM
    params, grads : dicts of the same keys (float32/float64 arrays)
    s1, s2 : dicts of state arrays by key (None when the op has no such state)
    c0..c3 : the scalars as in update() (SGD: c0 is lr), each computed by
        NumPy in the arrays' dtype, except Adam's lr_t for float32 arrays
        when wide32 (its step formed in double, as NumPy does)
    Returns True when every array was updated.
    """
    if op < OP_MOMENTUM or op > OP_SGD:
        raise ValueError("unknown optimizer op %d" % op)
    if type(params) is not dict or type(grads) is not dict:
        return False
    if len(<dict>grads) != len(<dict>params):
        return False
    cdef int nstate = 0 if op == OP_SGD else (2 if op == OP_ADAM else 1)
    if nstate >= 1 and type(s1) is not dict or nstate == 2 and type(s2) is not dict:
        return False
    cdef list held = []  # every array, alive for the whole nogil loop
    cdef list group
    cdef Py_ssize_t pos = 0, nkeys = len(<dict>params), k = 0, i, n
    cdef PyObject *key
    cdef PyObject *val
    cdef PyObject *item
    cdef cnp.ndarray p
    cdef int typenum, ndim
    cdef bint c_order
    cdef const cnp.npy_intp *dims
    while PyDict_Next(params, &pos, &key, &val):
        if not cnp.PyArray_Check(<object>val):
            return False
        p = <cnp.ndarray>val
        typenum = cnp.PyArray_TYPE(p)
        if typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT:
            return False
        ndim = cnp.PyArray_NDIM(p)
        dims = cnp.PyArray_DIMS(p)
        c_order = cnp.PyArray_IS_C_CONTIGUOUS(p)
        if not _fits(p, typenum, ndim, dims, c_order, True):
            return False
        group = [p]
        item = PyDict_GetItem(grads, <object>key)
        if item is NULL or not _fits(<object>item, typenum, ndim, dims, c_order, False):
            return False
        group.append(<object>item)
        if nstate >= 1:
            item = PyDict_GetItem(s1, <object>key)
            if item is NULL or not _fits(<object>item, typenum, ndim, dims, c_order, True):
                return False
            group.append(<object>item)
        if nstate == 2:
            item = PyDict_GetItem(s2, <object>key)
            if item is NULL or not _fits(<object>item, typenum, ndim, dims, c_order, True):
                return False
            group.append(<object>item)
        if not _apart(group):
            return False
        held.append(group)
    # Checked: now the updates, with the GIL released once.
    cdef Py_ssize_t m = len(held)
    cdef char **ptr = <char **>PyMem_Malloc(max(m, 1) * 4 * sizeof(char *))
    cdef Py_ssize_t *sizes = <Py_ssize_t *>PyMem_Malloc(max(m, 1) * sizeof(Py_ssize_t))
    cdef bint *is64 = <bint *>PyMem_Malloc(max(m, 1) * sizeof(bint))
    if ptr is NULL or sizes is NULL or is64 is NULL:
        PyMem_Free(ptr)
        PyMem_Free(sizes)
        PyMem_Free(is64)
        raise MemoryError()
    try:
        for i in range(m):
            group = <list>held[i]
            p = <cnp.ndarray>group[0]
            sizes[i] = cnp.PyArray_SIZE(p)
            is64[i] = cnp.PyArray_TYPE(p) == cnp.NPY_DOUBLE
            for k in range(4):
                # Ops without a second state pass the first (or p) twice.
                ptr[4 * i + k] = <char *>cnp.PyArray_DATA(
                    <cnp.ndarray>group[min(k, len(group) - 1)])
        with nogil:
            for i in range(m):
                if sizes[i] == 0:
                    continue
                _update_flat(op, is64[i], ptr[4 * i], ptr[4 * i + 1], ptr[4 * i + 2],
                             ptr[4 * i + 3], sizes[i], c0, c1, c2, c3,
                             wide32 and not is64[i])
    finally:
        PyMem_Free(ptr)
        PyMem_Free(sizes)
        PyMem_Free(is64)
    return True


def decay_gradient(const double[::1] g, const double[::1] W, double lam, double[::1] out):
    """out = g + lam * W (flat float64 arrays of one length, checked by the
    caller), one pass, NumPy's roundings."""
    if g.shape[0]:
        with nogil:
            decay_gradient_f64(&g[0], &W[0], lam, &out[0], g.shape[0])


def decay_keeps_gradient(const double[::1] g, const double[::1] W, double lam):
    """True when g + lam * W has g's bits (flat float64 arrays of one length,
    checked by the caller; see optimizer.h)."""
    cdef bint same
    with nogil:
        same = decay_keeps_gradient_f64(&g[0], &W[0], lam, g.shape[0]) if g.shape[0] else True
    return same
