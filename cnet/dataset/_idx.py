"""The IDX file format of MNIST-like data sets: parse, validate, checksum.

An IDX file is a big-endian header followed by the raw array::

    bytes 0-1   zero
    byte  2     element type code (0x08 = unsigned byte, ...)
    byte  3     number of dimensions, ndim
    4 * ndim    the dimensions, each a big-endian uint32
    ...         prod(dimensions) elements, C order

The checksums cnet keeps are SHA-256 digests of these decompressed bytes, so
they hold for any faithful mirror, however it (re)compressed the files.
"""
import hashlib
import struct

import numpy as np

# IDX element type code -> NumPy dtype (big-endian, as the format stores them).
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {dtype: code for code, dtype in IDX_DTYPES.items()}


class IdxFormatError(ValueError):
    """Bytes that are not a well-formed IDX file of the expected shape."""


def idx_header(dtype, shape):
    """The IDX header bytes for an array of ``dtype`` and ``shape``.

    Parameters
    ----------
    dtype : numpy dtype
        One of the IDX element types (uint8 for MNIST).
    shape : tuple of int
        The array's dimensions, each below 2**32.

    Returns
    -------
    bytes
        ``4 + 4 * len(shape)`` bytes.
    """
    dtype = np.dtype(dtype)
    code = _TYPE_CODES.get(dtype.newbyteorder(">") if dtype.itemsize > 1 else dtype)
    if code is None:
        raise ValueError("IDX files cannot hold dtype %s" % dtype)
    if len(shape) > 255:
        raise ValueError("IDX files hold at most 255 dimensions, got %d" % len(shape))
    return bytes((0, 0, code, len(shape))) + struct.pack(">%dI" % len(shape), *shape)


def parse_idx(data, expected_shape=None):
    """Parse the decompressed bytes of an IDX file into an array.

    Parameters
    ----------
    data : bytes-like
        The whole file.
    expected_shape : tuple of int, optional
        When given, the header must declare exactly these dimensions.

    Returns
    -------
    numpy.ndarray
        A read-only view of ``data`` (no copy) in native byte order for
        single-byte types, of the declared shape.

    Raises
    ------
    IdxFormatError
        Bad magic number, unknown element type, unexpected dimensions, or a
        length that does not match the header (truncated or trailing bytes).
    """
    view = memoryview(data).cast("B")
    if len(view) < 4:
        raise IdxFormatError("not an IDX file: only %d bytes" % len(view))
    if view[0] != 0 or view[1] != 0:
        raise IdxFormatError(
            "not an IDX file: bad magic number 0x%02x%02x%02x%02x"
            % (view[0], view[1], view[2], view[3]))
    dtype = IDX_DTYPES.get(view[2])
    if dtype is None:
        raise IdxFormatError("not an IDX file: unknown element type 0x%02x" % view[2])
    ndim = view[3]
    offset = 4 + 4 * ndim
    if len(view) < offset:
        raise IdxFormatError("IDX header is truncated: %d bytes, the header alone needs %d"
                             % (len(view), offset))
    shape = struct.unpack(">%dI" % ndim, view[4:offset])
    if expected_shape is not None and tuple(shape) != tuple(expected_shape):
        raise IdxFormatError("IDX header declares shape %s, expected %s"
                             % (_fmt_shape(shape), _fmt_shape(expected_shape)))
    count = 1
    for n in shape:
        count *= n
    expected_len = offset + count * dtype.itemsize
    if len(view) < expected_len:
        raise IdxFormatError("IDX data is truncated: %d bytes, the header (shape %s) needs %d"
                             % (len(view), _fmt_shape(shape), expected_len))
    if len(view) > expected_len:
        raise IdxFormatError("IDX data has %d trailing bytes after the %s array"
                             % (len(view) - expected_len, _fmt_shape(shape)))
    array = np.frombuffer(view, dtype=dtype, count=count, offset=offset).reshape(shape)
    return array


def idx_sha256(array):
    """SHA-256 (hex) of the IDX file that holds ``array``, without building it.

    Hashes the header for ``array``'s dtype and shape, then the array's bytes,
    so an array loaded from a cache can be checked against the checksum of the
    original file without a copy.

    Parameters
    ----------
    array : numpy.ndarray
        C-contiguous; any IDX element type.

    Returns
    -------
    str
        64 hex digits.
    """
    if not array.flags.c_contiguous:
        raise ValueError("idx_sha256 needs a C-contiguous array")
    h = hashlib.sha256(idx_header(array.dtype, array.shape))
    if array.dtype.itemsize > 1:
        # IDX stores multi-byte elements big-endian (no copy when they already are).
        array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">"))
    h.update(memoryview(array).cast("B"))
    return h.hexdigest()


def _fmt_shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ")"
