"""The book's optimizers (``common/optimizer.py``) on compiled update loops.

``SGD.update(params, grads)`` changes every array of ``params`` in place with
exactly the bits of the book's ``params[key] -= lr * grads[key]``.
"""
import numpy as np

from . import _optimizer

__all__ = ["SGD"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _check_keys(params, grads):
    if not hasattr(params, "keys") or not hasattr(grads, "keys"):
        raise TypeError("params and grads must be dicts of arrays, got %s and %s"
                        % (type(params).__name__, type(grads).__name__))
    missing = [k for k in params.keys() if k not in grads]
    extra = [k for k in grads.keys() if k not in params]
    if missing or extra:
        raise ValueError("params and grads keys differ: missing in grads %s, "
                         "not in params %s" % (missing, extra))


def _step_dtype(lr, g):
    """The dtype NumPy computes ``lr * g`` in (a Python float adapts to g's dtype)."""
    return np.multiply(lr, np.empty(0, dtype=g.dtype)).dtype


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
        _check_keys(params, grads)
        lr = self.lr
        if isinstance(lr, (bool, np.bool_)) or not isinstance(
                lr, (int, float, np.integer, np.floating)):
            raise TypeError("lr must be a real number, got %s" % type(lr).__name__)
        for key in params.keys():
            p, g = params[key], grads[key]
            if not isinstance(p, np.ndarray):
                raise TypeError("params[%r] must be a NumPy array to update in place, "
                                "got %s" % (key, type(p).__name__))
            if p.dtype not in _FLOATS:
                raise TypeError("params[%r] must be float32 or float64, got %s"
                                % (key, p.dtype))
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError("grads[%r] has shape %s, params[%r] has shape %s"
                                 % (key, g.shape, key, p.shape))
            step = _step_dtype(lr, g)
            if step not in _FLOATS:
                raise TypeError("grads[%r] of dtype %s gives lr * grad in %s; only "
                                "float32 and float64 are supported" % (key, g.dtype, step))
            if g.dtype not in _FLOATS:
                g = g.astype(step)  # NumPy casts integer gradients the same way
            if not p.flags.writeable:
                raise ValueError("params[%r] is read-only" % key)
            if g is not p and np.may_share_memory(p, g):
                g = g.copy()
            _optimizer.sgd_update(p, g, float(lr), step == np.float64)
