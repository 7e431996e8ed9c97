# The geometry of a window sliding over an image (csrc/im2col.h), shared by
# the compiled im2col and pooling modules.
from libc.stddef cimport ptrdiff_t

cdef extern from "im2col.h" nogil:
    ctypedef struct cnet_conv_geom:
        ptrdiff_t H, W, FH, FW, stride, pad, OH, OW


cdef inline cnet_conv_geom make_geometry(Py_ssize_t H, Py_ssize_t W, Py_ssize_t FH,
                                         Py_ssize_t FW, Py_ssize_t stride,
                                         Py_ssize_t pad) noexcept:
    """The geometry, with OH, OW = (H + 2*pad - FH) // stride + 1 (and W's)."""
    cdef cnet_conv_geom g
    g.H = H
    g.W = W
    g.FH = FH
    g.FW = FW
    g.stride = stride
    g.pad = pad
    g.OH = (H + 2 * pad - FH) // stride + 1
    g.OW = (W + 2 * pad - FW) // stride + 1
    return g
