"""Argument checks shared by the layers: one clear line naming the argument."""
import numpy as np


def real_array(x, where, name):
    """x as an ndarray of real numbers (bool, integer or float), else TypeError.

    Parameters
    ----------
    x : array_like
    where : str
        The calling method, e.g. ``"Affine.forward"``, for the message.
    name : str
        The argument's name, e.g. ``"x"``.
    """
    a = x if isinstance(x, np.ndarray) else np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError("%s: %s must be an array of real numbers, got dtype %s"
                        % (where, name, a.dtype))
    return a


def same_shape(a, b, where, name, other):
    """ValueError unless a and b have one shape (b's name is ``other``)."""
    if a.shape != b.shape:
        raise ValueError("%s: %s has shape %s but %s has shape %s"
                         % (where, name, a.shape, other, b.shape))


def forward_done(state, where):
    """RuntimeError when backward is called before forward saved its state."""
    if state is None:
        raise RuntimeError("%s: call forward before backward" % where)
