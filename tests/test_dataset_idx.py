"""IDX parsing and checksums (cnet.dataset._idx) on files built here."""
import hashlib
import struct

import numpy as np
import pytest

from cnet.dataset._idx import IdxFormatError, idx_header, idx_sha256, parse_idx


def idx_bytes(array, code=0x08):
    """An IDX file written by hand from the format's definition."""
    header = bytes((0, 0, code, array.ndim)) + struct.pack(">%dI" % array.ndim, *array.shape)
    return header + array.tobytes()


def test_parse_images_and_labels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7, dtype=np.uint8)
    got = parse_idx(idx_bytes(images), (7, 28, 28))
    np.testing.assert_array_equal(got, images)
    assert got.dtype == np.uint8 and got.shape == (7, 28, 28)
    got = parse_idx(idx_bytes(labels))
    np.testing.assert_array_equal(got, labels)


def test_parse_multibyte_types_are_big_endian():
    values = np.array([[1, -2, 300], [70000, 5, -6]], dtype=">i4")
    got = parse_idx(idx_bytes(values, code=0x0C))
    np.testing.assert_array_equal(got, values.astype(np.int64))
    floats = np.array([0.5, -1.25], dtype=">f8")
    np.testing.assert_array_equal(parse_idx(idx_bytes(floats, code=0x0E)), [0.5, -1.25])


def test_empty_array():
    got = parse_idx(idx_bytes(np.zeros((0, 28, 28), np.uint8)), (0, 28, 28))
    assert got.shape == (0, 28, 28)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"\x01" + b[1:], "magic"),
    (lambda b: b[:2] + b"\x07" + b[3:], "element type"),
    (lambda b: b[:2], "only 2 bytes"),
    (lambda b: b[:9], "header is truncated"),
    (lambda b: b[:-1], "truncated"),
    (lambda b: b + b"\x00\x00", "2 trailing bytes"),
])
def test_malformed_files_are_refused(mutate, message):
    data = idx_bytes(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))
    with pytest.raises(IdxFormatError, match=message):
        parse_idx(mutate(data))


def test_unexpected_shape_is_refused():
    data = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(IdxFormatError, match=r"declares shape \(5, 28, 28\), expected "
                                             r"\(6, 28, 28\)"):
        parse_idx(data, (6, 28, 28))
    with pytest.raises(IdxFormatError, match="expected"):
        parse_idx(data, (5, 784))


@pytest.mark.parametrize("dtype, code", [("u1", 0x08), ("i1", 0x09), ("<i2", 0x0B),
                                         (">i2", 0x0B), ("<i4", 0x0C), ("<f4", 0x0D),
                                         (">f8", 0x0E)])
def test_idx_sha256_equals_hash_of_the_file(dtype, code):
    # The cache check hashes header + array without building the file: it must
    # agree with hashing the real file, whatever the array's byte order.
    array = (np.arange(60, dtype=np.int64).reshape(3, 4, 5) - 7).astype(dtype)
    file_bytes = idx_header(array.dtype, array.shape) + array.astype(
        np.dtype(dtype).newbyteorder(">") if np.dtype(dtype).itemsize > 1 else dtype).tobytes()
    assert file_bytes[2] == code
    assert idx_sha256(array) == hashlib.sha256(file_bytes).hexdigest()
    np.testing.assert_array_equal(parse_idx(file_bytes), array)


def test_idx_sha256_needs_contiguous_input():
    with pytest.raises(ValueError, match="C-contiguous"):
        idx_sha256(np.zeros((4, 4), np.uint8)[:, ::2])


def test_idx_header_refuses_other_dtypes():
    with pytest.raises(ValueError, match="cannot hold dtype"):
        idx_header(np.uint16, (3,))
