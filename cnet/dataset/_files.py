"""Opening data files safely: only regular files, never blocking on a FIFO or device."""
import os
import stat


class NotARegularFileError(OSError):
    """A path that names a FIFO, a device, a socket or a folder, not a file."""


def open_regular(path):
    """Open ``path`` for binary reading, refusing anything but a regular file.

    The file is opened without blocking (a FIFO with no writer would otherwise
    hang ``open``) and then checked with ``fstat``, so there is no window in
    which the path could be swapped between the check and the open.

    Returns
    -------
    io.BufferedReader

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    NotARegularFileError
        Something other than a regular file at ``path``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise NotARegularFileError("%s is a folder, not a file" % (path,)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFileError("%s is not a regular file (%s)"
                                       % (path, _kind(mode)))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode):
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "mode 0o%o" % stat.S_IFMT(mode)
