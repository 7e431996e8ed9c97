"""The book's ``common/gradient.py`` and the chapter-4 helpers around it.

``numerical_gradient(f, x)`` keeps the book's exact semantics: h = 1e-4, every
element of x in C order whatever x's shape, x perturbed in place (f usually
ignores its argument and reads the network's parameters, which *are* x) and
restored, the result an array like x. The per-element loop is compiled
(``cnet._gradient``); the time left is f's own. If f raises, a Ctrl-C
(KeyboardInterrupt) included, the element being perturbed is restored before
the exception propagates, so x is never left changed.

x must be a writeable float32 or float64 NumPy array, in any memory order and
possibly a strided view: the perturbation goes to its own memory. Integer x
is refused with TypeError (x + 1e-4 cannot be stored in it, so the book's
gradient over it is meaningless), and so is float16 (1e-4 is below its
resolution near 1, so its "gradient" would be mostly zeros).
"""
import numpy as np

from . import _gradient as _k

__all__ = ["numerical_diff", "_numerical_gradient_1d", "numerical_gradient_2d",
           "numerical_gradient", "gradient_descent"]


def _check_x(x, func):
    if not isinstance(x, np.ndarray):
        raise TypeError("%s: x must be a NumPy array (it is perturbed in place), got %s"
                        % (func, type(x).__name__))
    if x.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError("%s: x must be float32 or float64 (in native byte order), got "
                        "dtype %s; a numerical gradient over integers is meaningless "
                        "and h = 1e-4 is below float16's resolution"
                        % (func, x.dtype.str if not x.dtype.isnative else x.dtype))
    if not x.flags.writeable:
        raise ValueError("%s: x is read-only, but the numerical gradient perturbs it "
                         "in place" % func)


def numerical_diff(f, x):
    """Central difference (f(x + h) - f(x - h)) / 2h with h = 1e-4 (chapter 4).

    Parameters
    ----------
    f : callable taking x
    x : number or array

    Returns
    -------
    Whatever the arithmetic on f's results gives (a float for a scalar f).
    """
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def _numerical_gradient_1d(f, x):
    """Numerical gradient of f at a 1-D x, calling f(x) with one element moved.

    Parameters
    ----------
    f : callable, f(x) -> scalar
    x : ndarray (n,), float32 or float64, IN/OUT (perturbed, then restored)

    Returns
    -------
    ndarray (n,), x's dtype.
    """
    _check_x(x, "_numerical_gradient_1d")
    if x.ndim != 1:
        raise ValueError("_numerical_gradient_1d: x must be 1-D, got shape %s" % (x.shape,))
    return _k.central_differences(f, x, x, np.zeros_like(x))


def numerical_gradient_2d(f, X):
    """Row-by-row numerical gradient: f is called with one row of X at a time.

    Parameters
    ----------
    f : callable, f(row) -> scalar
    X : ndarray (n,) or (N, n), float32 or float64, IN/OUT (perturbed, restored)

    Returns
    -------
    ndarray, X's shape and dtype.
    """
    _check_x(X, "numerical_gradient_2d")
    if X.ndim == 1:
        return _numerical_gradient_1d(f, X)
    if X.ndim != 2:
        raise ValueError("numerical_gradient_2d: X must be 1-D or 2-D, got shape %s"
                         % (X.shape,))
    grad = np.zeros_like(X)
    for idx, x in enumerate(X):
        _k.central_differences(f, x, x, grad[idx])
    return grad


def numerical_gradient(f, x):
    """Numerical gradient of f at x, the book's central difference.

    For every element of x in C order: x[idx] = v + h, f(x); x[idx] = v - h,
    f(x); grad[idx] = (fxh1 - fxh2) / (2h); x[idx] = v; with h = 1e-4 and the
    book's arithmetic (for float32 x, v + h is rounded to float32 and v - h is
    a float32 difference).

    Parameters
    ----------
    f : callable, f(x) -> scalar (Python float or NumPy scalar)
    x : ndarray, any shape and layout, float32 or float64, writeable;
        IN/OUT: perturbed in place during the call and restored, also when
        f raises

    Returns
    -------
    ndarray, x's shape, dtype and memory order (``np.zeros_like(x)``).
    """
    _check_x(x, "numerical_gradient")
    return _k.central_differences(f, x, x, np.zeros_like(x))


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    """step_num steps of x -= lr * numerical_gradient(f, x), from init_x (chapter 4).

    Parameters
    ----------
    f : callable, f(x) -> scalar
    init_x : ndarray, float32 or float64; IN/OUT: updated in place
    lr : float
    step_num : int

    Returns
    -------
    init_x itself, after the updates.
    """
    x = init_x
    for _ in range(step_num):
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x
