"""The book's optimizers (``common/optimizer.py``) on compiled update loops.

``update(params, grads)`` changes every array of ``params`` in place. SGD gives
exactly the bits of the book's ``params[key] -= lr * grads[key]``; Momentum,
Nesterov, AdaGrad, RMSprop and Adam give exactly the bits of the book's NumPy
lines too when a parameter, its gradient and its state share one dtype and
one contiguous layout (the usual case: one compiled pass per array, no
temporaries). Any other combination (mixed float32/float64, strided or
overlapping arrays, NumPy scalars that widen the arithmetic) runs the book's
NumPy lines themselves, on the state arrays in place. The state (``v``, ``h``,
``m``) has the parameter's dtype and layout and is created on the first update.

A parameter that is a plain number (a Python or NumPy scalar, as in the
book's ch06/optimizer_compare_naive.py, which optimizes ``{'x': -7.0, 'y':
2.0}``) cannot change in place: as in the book, its dict entry is replaced by
the updated number (a NumPy float64), and its state is a 0-d array.

``from cnet.optimizer import *`` also gives ``np``, as the book's module does
(ch06/optimizer_compare_mnist.py uses ``np`` from that star import alone).
"""
import numpy as np

from . import _optimizer

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "np"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# The book's epsilon of AdaGrad, RMSprop and Adam.
EPS = 1e-7


def _check_keys(params, grads):
    if not hasattr(params, "keys") or not hasattr(grads, "keys"):
        raise TypeError("params and grads must be dicts of arrays, got %s and %s"
                        % (type(params).__name__, type(grads).__name__))
    missing = [k for k in params.keys() if k not in grads]
    extra = [k for k in grads.keys() if k not in params]
    if missing or extra:
        raise ValueError("params and grads keys differ: missing in grads %s, "
                         "not in params %s" % (missing, extra))


def _check_real(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError("%s must be a real number, got %s" % (name, type(value).__name__))


def _is_number(p):
    """True for a real Python or NumPy scalar (not a bool, not an array)."""
    return (isinstance(p, (int, float, np.integer, np.floating))
            and not isinstance(p, (bool, np.bool_)))


def _check_number_pair(key, p, g):
    """(p, g) of a plain-number parameter as 0-d float arrays (the
    parameter's own float type, float64 for an integer), g checked."""
    g = np.asarray(g)
    if g.shape != ():
        raise ValueError("grads[%r] has shape %s, params[%r] is a number"
                         % (key, g.shape, key))
    if g.dtype.kind not in "biuf":
        raise TypeError("grads[%r] must be a real number, got dtype %s" % (key, g.dtype))
    p = np.array(p, dtype=p.dtype if isinstance(p, np.floating) else np.float64)
    return p, g


def _check_pair(key, p, g):
    """(p, g) checked: p a writeable float32/float64 ndarray, g of p's shape."""
    if not isinstance(p, np.ndarray):
        raise TypeError("params[%r] must be a NumPy array or a number, "
                        "got %s" % (key, type(p).__name__))
    if p.dtype not in _FLOATS:
        raise TypeError("params[%r] must be float32 or float64, got %s" % (key, p.dtype))
    g = np.asarray(g)
    if g.shape != p.shape:
        raise ValueError("grads[%r] has shape %s, params[%r] has shape %s"
                         % (key, g.shape, key, p.shape))
    if g.dtype.kind not in "biuf":
        raise TypeError("grads[%r] must hold real numbers, got dtype %s" % (key, g.dtype))
    if not p.flags.writeable:
        raise ValueError("params[%r] is read-only" % key)
    return p, g


def _step_dtype(lr, g):
    """The dtype NumPy computes ``lr * g`` in (a Python float adapts to g's dtype)."""
    return np.multiply(lr, np.empty(0, dtype=g.dtype)).dtype


def _flat(a, order):
    """A 1-D view of a walking its memory in order ("C" or "F"), or None when a
    cannot be walked so (not contiguous in that order, misaligned, or read-only)."""
    if not (a.flags.aligned and a.flags.writeable):
        return None
    if order == "C" and a.flags.c_contiguous:
        return a.reshape(-1)
    if order == "F" and a.flags.f_contiguous:
        return a.reshape(-1, order="F")
    return None


def _flat_views(p, g, states):
    """Flat views of p, g and each state array in one memory order, or None when
    the compiled pass cannot take them (see the module docstring)."""
    if g.dtype != p.dtype or any(not isinstance(s, np.ndarray) or s.dtype != p.dtype
                                 or s.shape != p.shape for s in states):
        return None
    order = "C" if p.flags.c_contiguous else "F"
    fp = _flat(p, order)
    fg = g.reshape(-1, order=order) if g.flags.aligned and (
        g.flags.c_contiguous if order == "C" else g.flags.f_contiguous) else None
    if fp is None or fg is None:
        return None
    flats = [fp, fg]
    for s in states:
        fs = _flat(s, order)
        if fs is None:
            return None
        flats.append(fs)
    arrays = [p, g, *states]
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            if np.may_share_memory(arrays[i], arrays[j]):
                return None
    return flats


def _keeps_dtype(dtype, *scalars):
    """True when each scalar times an array of dtype is computed in dtype."""
    return all(np.result_type(s, dtype) == dtype for s in scalars)


class _Stateful:
    """The common part of the optimizers with per-parameter state.

    A subclass names its hyperparameters (``_hyper``) and state dicts
    (``_state_names``), and gives ``_scalars()`` (the numbers its lines
    multiply arrays by, as the book forms them), ``_step(...)`` (the book's
    lines in NumPy, on the state in place) and its compiled kernel's op.
    """

    _state_names = ()
    _hyper = ("lr",)

    def update(self, params, grads):
        """Update every array of ``params`` in place; create the state on the
        first call.

        Parameters
        ----------
        params : dict of str to ndarray
            float32 or float64 arrays, writeable, IN/OUT.
        grads : dict of str to array_like
            The same keys, each of its parameter's shape, IN.
        """
        scalars = self._fast_scalars()
        if scalars is not None and _optimizer.update_all(
                self._op, params, grads, *self._state_dicts(), *scalars):
            self._advance()
            return
        for name in self._hyper:
            _check_real(getattr(self, name), name)
        items = self._items(params, grads)
        self._state(params)
        scalars = self._scalars() if scalars is None else scalars[:4]
        self._advance()
        wides = {}  # per dtype: the same scalars for every key
        for key, p, g in items:
            states = [getattr(self, name)[key] for name in self._state_names]
            if p.ndim == 0 and not isinstance(params[key], np.ndarray):
                # A number: the book's lines on 0-d copies, the entry replaced.
                states = [np.array(st) for st in states]
                self._step(p, g, *states, *scalars)
                params[key] = p[()]
                for name, st in zip(self._state_names, states):
                    getattr(self, name)[key] = st
                continue
            flats = _flat_views(p, g, states)
            if p.dtype not in wides:
                wides[p.dtype] = self._wide(scalars, p.dtype)
            wide = wides[p.dtype]
            if flats is not None and wide is not None:
                _optimizer.update(self._op, *flats, *([flats[2]] * (4 - len(flats))),
                                  *(float(c) for c in scalars), wide)
            else:
                self._step(p, g, *states, *scalars)

    def _fast_scalars(self):
        """The kernel's four scalars and its float32 wide flag when every
        hyperparameter is a Python float (each then times an array is computed
        in the array's dtype: update_all applies), else None (nothing consumed)."""
        for name in self._hyper:
            if type(getattr(self, name)) is not float:
                return None
        return (*self._scalars(), False)

    def _advance(self):
        """Count the update (Adam's iter), once its arrays are known good."""

    def _state_dicts(self):
        """The state dicts as update_all takes them (None for a missing one)."""
        names = self._state_names
        return (getattr(self, names[0]), getattr(self, names[1]) if len(names) > 1 else None)

    def _wide(self, scalars, dtype):
        """False when every scalar times an array of dtype is computed in dtype
        (the compiled pass applies), else None (NumPy's lines run)."""
        return False if _keeps_dtype(dtype, *scalars) else None

    def _state(self, params):
        """Create the state dicts on the first update (zeros like each parameter)."""
        for name in self._state_names:
            if getattr(self, name) is None:
                setattr(self, name, {key: np.zeros_like(val) for key, val in params.items()})
        for key, val in params.items():
            for name in self._state_names:
                store = getattr(self, name)
                if key not in store:
                    store[key] = np.zeros_like(val)
                elif np.shape(store[key]) != np.shape(val):
                    raise ValueError(
                        "%s: params[%r] has shape %s but its state %s[%r] has shape %s "
                        "from earlier updates; a parameter's shape cannot change "
                        "between updates (use a new optimizer)"
                        % (type(self).__name__, key, np.shape(val), name, key,
                           np.shape(store[key])))

    def _items(self, params, grads):
        """[(key, p, g)] for each parameter, all checked before any is changed."""
        _check_keys(params, grads)
        items = []
        for key in params.keys():
            check = _check_number_pair if _is_number(params[key]) else _check_pair
            p, g = check(key, params[key], grads[key])
            items.append((key, p, g))
        return items


class SGD:
    """Stochastic gradient descent: ``W <- W - lr * dL/dW``.

    Parameters
    ----------
    lr : float
        Learning rate.
    """

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        """Update every array of ``params`` in place.

        Parameters
        ----------
        params : dict of str to ndarray
            float32 or float64 arrays of any shape and memory layout, writeable,
            IN/OUT.
        grads : dict of str to array_like
            Same keys; each of its parameter's shape, float32 or float64 (or
            integers, taken as NumPy would), IN.
        """
        lr = self.lr
        if type(lr) is float and _optimizer.update_all(
                _optimizer.SGD_OP, params, grads, None, None, lr, 0.0, 0.0, 0.0, False):
            return
        _check_keys(params, grads)
        _check_real(lr, "lr")
        for key in params.keys():
            if _is_number(params[key]):
                _check_number_pair(key, params[key], grads[key])
                params[key] = params[key] - lr * grads[key]  # the book's line
                continue
            p, g = _check_pair(key, params[key], grads[key])
            step = _step_dtype(lr, g)
            if step not in _FLOATS:
                raise TypeError("grads[%r] of dtype %s gives lr * grad in %s; only "
                                "float32 and float64 are supported" % (key, g.dtype, step))
            if g.dtype not in _FLOATS:
                g = g.astype(step)  # NumPy casts integer gradients the same way
            if g is not p and np.may_share_memory(p, g) or not g.flags.aligned:
                g = g.copy()  # a copy is aligned, and apart from p
            if p.flags.aligned:
                _optimizer.sgd_update(p, g, float(lr), step == np.float64)
            else:
                # The kernel reads elements through typed pointers, which
                # must be aligned: update an aligned copy and store it back.
                q = p.copy()
                _optimizer.sgd_update(q, g if g is not p else q, float(lr),
                                      step == np.float64)
                p[...] = q


class Momentum(_Stateful):
    """Momentum SGD: ``v = momentum * v - lr * grad; W += v``.

    Parameters
    ----------
    lr : float, default 0.01
    momentum : float, default 0.9

    Attributes
    ----------
    v : dict of str to ndarray or None
        The velocity of each parameter (created on the first update).
    """

    _state_names = ("v",)
    _hyper = ("lr", "momentum")
    _op = _optimizer.MOMENTUM

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def _scalars(self):
        return self.momentum, self.lr, 0.0, 0.0

    def _step(self, p, g, v, momentum, lr, *_):
        v[...] = momentum * v - lr * g
        p += v


class Nesterov(_Stateful):
    """Nesterov's accelerated gradient (http://arxiv.org/abs/1212.0901), in the
    book's form: ``W += momentum**2 * v; W -= (1 + momentum) * lr * grad;
    v = momentum * v - lr * grad``.

    Parameters
    ----------
    lr : float, default 0.01
    momentum : float, default 0.9

    Attributes
    ----------
    v : dict of str to ndarray or None
    """

    _state_names = ("v",)
    _hyper = ("lr", "momentum")
    _op = _optimizer.NESTEROV

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def _scalars(self):
        return (self.momentum * self.momentum, (1 + self.momentum) * self.lr,
                self.momentum, self.lr)

    def _step(self, p, g, v, mm, c, momentum, lr):
        p += mm * v
        p -= c * g
        v *= momentum
        v -= lr * g


class AdaGrad(_Stateful):
    """AdaGrad: ``h += grad * grad; W -= lr * grad / (sqrt(h) + 1e-7)``.

    Parameters
    ----------
    lr : float, default 0.01

    Attributes
    ----------
    h : dict of str to ndarray or None
        The sum of squared gradients of each parameter.
    """

    _state_names = ("h",)
    _op = _optimizer.ADAGRAD

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def _scalars(self):
        return self.lr, EPS, 0.0, 0.0

    def _step(self, p, g, h, lr, eps, *_):
        h += g * g
        p -= lr * g / (np.sqrt(h) + eps)


class RMSprop(_Stateful):
    """RMSprop: ``h = decay_rate * h + (1 - decay_rate) * grad * grad;
    W -= lr * grad / (sqrt(h) + 1e-7)``.

    Parameters
    ----------
    lr : float, default 0.01
    decay_rate : float, default 0.99

    Attributes
    ----------
    h : dict of str to ndarray or None
    """

    _state_names = ("h",)
    _hyper = ("lr", "decay_rate")
    _op = _optimizer.RMSPROP

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def _scalars(self):
        return self.decay_rate, 1 - self.decay_rate, self.lr, EPS

    def _step(self, p, g, h, decay, keep, lr, eps):
        h *= decay
        h += keep * g * g
        p -= lr * g / (np.sqrt(h) + eps)


# Whether NumPy computes a NumPy float64 times a float32 array in float64
# (NumPy 2) or in float32 (NumPy 1's value-based casting): Adam's lr_t * m.
_WIDE32 = (np.float64(0.5) * np.ones(1, np.float32)).dtype == np.float64


class Adam(_Stateful):
    """Adam (http://arxiv.org/abs/1412.6980v8) in the book's form.

    ``m += (1 - beta1) * (grad - m); v += (1 - beta2) * (grad**2 - v);
    W -= lr_t * m / (sqrt(v) + 1e-7)`` with
    ``lr_t = lr * sqrt(1 - beta2**iter) / (1 - beta1**iter)``.

    Parameters
    ----------
    lr : float, default 0.001
    beta1 : float, default 0.9
    beta2 : float, default 0.999

    Attributes
    ----------
    iter : int
        Updates made so far.
    m, v : dict of str to ndarray or None
        First and second moment estimates.
    """

    _state_names = ("m", "v")
    _hyper = ("lr", "beta1", "beta2")
    _op = _optimizer.ADAM

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def _scalars(self):
        # The scalars of update number iter + 1 (_advance counts it).
        it = self.iter + 1
        # np.sqrt, as the book: lr_t is a NumPy float64 and takes part in the
        # dtype NumPy picks for lr_t * m.
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** it) / (1.0 - self.beta1 ** it)
        return 1 - self.beta1, 1 - self.beta2, lr_t, EPS

    def _fast_scalars(self):
        # lr_t is a NumPy float64: float32 arrays take their step in the
        # dtype NumPy picks for it (double on NumPy 2).
        scalars = _Stateful._fast_scalars(self)
        return None if scalars is None else (*scalars[:4], _WIDE32)

    def _advance(self):
        self.iter += 1

    def _wide(self, scalars, dtype):
        # lr_t * m may be computed wider than the arrays (NumPy 2 takes a
        # float32 array times a NumPy float64 in float64): the kernel can too.
        k1, k2, lr_t, _ = scalars
        step = np.result_type(lr_t, dtype)
        if not _keeps_dtype(dtype, k1, k2) or step not in _FLOATS:
            return None
        return step != dtype

    def _step(self, p, g, m, v, k1, k2, lr_t, eps):
        m += k1 * (g - m)
        v += k2 * (g ** 2 - v)
        p -= lr_t * m / (np.sqrt(v) + eps)
