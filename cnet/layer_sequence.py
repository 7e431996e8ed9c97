"""Forward and backward through a sequence of the book's layers, as the
chapter-7 and chapter-8 networks walk theirs, with fusions: a Convolution
followed by a Relu applies the ReLU in the convolution's output pass, and
its backward in the convolution's pass over dout; when a Pooling without
padding follows that Relu, the pooling is done in the same pass too (the
fused layers are then skipped and keep no state; the values are the same,
bit for bit, NaN included)."""
from .layers import Convolution, Dropout, Pooling, Relu

__all__ = ["forward", "backward"]


def _fused(layers, i):
    """Whether layers[i] is a Relu or Pooling whose work was fused into the
    Convolution before it."""
    if i > 0 and type(layers[i]) is Relu and type(layers[i - 1]) is Convolution:
        return layers[i - 1]._out is not None
    return (i > 1 and type(layers[i]) is Pooling and type(layers[i - 2]) is Convolution
            and layers[i - 2]._pool is not None)


def forward(layers, x, train_flg=None):
    """Run x through layers; train_flg is passed to Dropout layers when given.

    Parameters
    ----------
    layers : sequence of layer objects
    x : ndarray, the first layer's input
    train_flg : bool or None

    Returns
    -------
    The last layer's output.
    """
    i, n = 0, len(layers)
    while i < n:
        layer = layers[i]
        if type(layer) is Convolution:
            fuse = i + 1 < n and type(layers[i + 1]) is Relu
            pool = layers[i + 2] if fuse and i + 2 < n else None
            if type(pool) is not Pooling or pool.pad != 0:
                pool = None
            x = layer._forward(x, fuse, pool)
            i += 1 + fuse + (pool is not None)
            continue
        if train_flg is not None and isinstance(layer, Dropout):
            x = layer.forward(x, train_flg)
        else:
            x = layer.forward(x)
        i += 1
    return x


def backward(layers, dout, need_dx=False):
    """Backpropagate dout through layers after :func:`forward`.

    Parameters
    ----------
    layers : the sequence given to forward
    dout : ndarray, the gradient at the last layer's output
    need_dx : bool
        Whether the gradient at the first layer's input is wanted; a network's
        gradient does not need it, and the first convolution then skips it.

    Returns
    -------
    The first layer's dx (None when not needed and skipped).
    """
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if _fused(layers, i):
            continue
        if type(layer) is Convolution:
            dout = layer._backward(dout, need_dx or i > 0)
        else:
            dout = layer.backward(dout)
    return dout
