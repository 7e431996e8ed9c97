"""Fetching a data set's files from mirrors: http(s) URLs, file:// URLs, folders.

Every file is read whole into memory (the largest MNIST-like file is about
26 MB compressed), decompressed with a size cap taken from the data set's spec,
checked (IDX header, then SHA-256 of the decompressed bytes) and only then
handed on, so a failed or tampered transfer never reaches the cache.
"""
import gzip
import hashlib
import http.client
import io
import os
import urllib.error
import urllib.parse
import urllib.request
import zlib

from ._files import NotARegularFileError, open_regular
from ._idx import IdxFormatError, parse_idx

TIMEOUT_SECONDS = 30
_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
# A compressed file larger than its decompressed size plus this slack is refused
# before it is read to the end.
_GZIP_SLACK = 1 << 20


class ChecksumError(ValueError):
    """A file's decompressed bytes do not have the SHA-256 the code expects."""


class FetchError(OSError):
    """A source could not provide a file (unreachable, missing, short, bad data).

    ``unreachable`` is True when the source as a whole is out of reach (no
    connection, no such folder), so asking it for other files is pointless.
    """

    def __init__(self, message, unreachable=False):
        super().__init__(message)
        self.unreachable = unreachable


class Mirror:
    """One place the files can come from.

    Parameters
    ----------
    location : str or os.PathLike
        ``http://`` or ``https://`` URL of a folder, ``file://`` URL, or a
        local folder path (``~`` expanded).
    """

    def __init__(self, location):
        location = os.fspath(location)
        if not isinstance(location, str) or not location.strip():
            raise ValueError("a mirror must be a non-empty URL or folder path, got %r"
                             % (location,))
        self.location = location.strip()
        scheme = urllib.parse.urlsplit(self.location).scheme.lower()
        if scheme in ("http", "https"):
            self.kind = "url"
            self.base = self.location if self.location.endswith("/") else self.location + "/"
        elif scheme == "file":
            self.kind = "folder"
            parts = urllib.parse.urlsplit(self.location)
            path = urllib.request.url2pathname(parts.path)
            if parts.netloc and parts.netloc != "localhost":
                path = "//" + parts.netloc + path  # a UNC share, file://server/share
            self.base = path
        elif len(scheme) > 1:
            # One letter is a Windows drive ("C:\\data"), anything longer a scheme.
            raise ValueError("mirror %r: only http(s):// and file:// URLs and local "
                             "folders are supported" % self.location)
        else:
            self.kind = "folder"
            self.base = os.path.expanduser(self.location)

    def __repr__(self):
        return "Mirror(%r)" % self.location

    def __str__(self):
        return self.location

    def where(self, filename):
        """The URL or path of ``filename`` at this mirror."""
        if self.kind == "url":
            return urllib.parse.urljoin(self.base, filename)
        return os.path.join(self.base, filename)

    def read(self, filename, max_bytes, progress):
        """The raw (usually gzip) bytes of ``filename``, at most ``max_bytes``.

        Raises
        ------
        FetchError
            With the reason: unreachable, HTTP status, missing file, too large,
            connection cut short.
        """
        if self.kind == "url":
            return self._read_url(filename, max_bytes, progress)
        return self._read_folder(filename, max_bytes, progress)

    def _read_url(self, filename, max_bytes, progress):
        url = self.where(filename)
        request = urllib.request.Request(url, headers={"User-Agent": "cnet"})
        started = False
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if total is not None and total > max_bytes:
                    raise FetchError("%s is %d bytes, more than the %d expected"
                                     % (url, total, max_bytes))
                progress.start("downloading %s" % filename, total, url)
                started = True
                data = _read_stream(response, max_bytes, progress, url)
            if total is not None and len(data) != total:
                raise FetchError("transfer cut short: %d of %d bytes" % (len(data), total))
        except urllib.error.HTTPError as exc:
            raise FetchError("HTTP error %d %s" % (exc.code, exc.reason)) from None
        except urllib.error.URLError as exc:
            raise FetchError("cannot reach it: %s" % (exc.reason,), unreachable=True) from None
        except FetchError:
            if started:
                progress.finish("failed")
            raise
        except (OSError, ValueError, http.client.HTTPException) as exc:
            if started:
                progress.finish("failed")
            raise FetchError("transfer failed: %s" % (_describe(exc),)) from None
        progress.finish("done")
        return data

    def _read_folder(self, filename, max_bytes, progress):
        if not os.path.isdir(self.base):
            raise FetchError("no such folder: %s" % self.base, unreachable=True)
        path = os.path.join(self.base, filename)
        if not os.path.exists(path) and filename.endswith(".gz"):
            # A folder may hold the files already decompressed.
            plain = path[:-3]
            if os.path.exists(plain):
                path = plain
        try:
            # A FIFO or device named like the file would block or never end.
            with open_regular(path) as f:
                total = os.fstat(f.fileno()).st_size
                if total > max_bytes:
                    raise FetchError("%s is %d bytes, more than the %d expected"
                                     % (path, total, max_bytes))
                progress.start("reading %s" % os.path.basename(path), total, path)
                data = _read_stream(f, max_bytes, progress, path)
        except FileNotFoundError:
            raise FetchError("%s is missing" % path) from None
        except NotARegularFileError as exc:
            raise FetchError(str(exc)) from None
        except FetchError:
            raise
        except OSError as exc:
            raise FetchError("cannot read %s: %s" % (path, _describe(exc))) from None
        progress.finish("done")
        return data


def _read_stream(stream, max_bytes, progress, where):
    chunks = []
    size = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise FetchError("%s is larger than the %d bytes expected" % (where, max_bytes))
        chunks.append(chunk)
        progress.advance(len(chunk))
    return b"".join(chunks)


def _describe(exc):
    text = str(exc)
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def decompress(raw, max_bytes):
    """Gunzip ``raw`` (or pass plain bytes through), refusing more than ``max_bytes``.

    Raises
    ------
    FetchError
        Corrupt or truncated gzip data, or output beyond ``max_bytes``.
    """
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            data = f.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise FetchError("bad gzip data: %s" % _describe(exc)) from None
    if len(data) > max_bytes:
        raise FetchError("decompresses to more than the %d bytes expected" % max_bytes)
    return data


def fetch_idx(mirror, entry, progress):
    """Read, decompress and check one IDX file of a data set from ``mirror``.

    Parameters
    ----------
    mirror : Mirror
    entry : IdxFile
        The file's name, shape and SHA-256 (see ``cnet.dataset._spec``).
    progress : Progress

    Returns
    -------
    numpy.ndarray of uint8, shape ``entry.shape``
        A read-only view of the decompressed bytes.

    Raises
    ------
    FetchError
        The source failed or served malformed data.
    ChecksumError
        Well-formed data with the wrong SHA-256.
    """
    raw_len = entry.idx_length
    raw = mirror.read(entry.filename, raw_len + _GZIP_SLACK, progress)
    data = decompress(raw, raw_len)
    del raw
    try:
        array = parse_idx(data, entry.shape)
    except IdxFormatError as exc:
        raise FetchError("malformed IDX file: %s" % exc) from None
    if array.dtype != entry.dtype:
        raise FetchError("holds %s elements, expected %s" % (array.dtype, entry.dtype))
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise ChecksumError("checksum mismatch for %s from %s: SHA-256 of the decompressed "
                            "bytes is %s, expected %s"
                            % (entry.filename, mirror, digest, entry.sha256))
    return array
