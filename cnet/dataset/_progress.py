"""Download progress: a tqdm bar on a terminal, one line per file otherwise.

``verbose=None`` (the loaders' default) means "on unless ``CNET_QUIET`` is set"
(to anything but ``0``/``false``/``no``/``off``/empty); True or False decide
outright.
"""
import os
import sys

from tqdm.auto import tqdm

QUIET_ENV = "CNET_QUIET"
_REDRAW_SECONDS = 0.1


def resolve_verbose(verbose):
    """The loaders' ``verbose`` argument, with ``None`` read from ``CNET_QUIET``."""
    if verbose is None:
        quiet = os.environ.get(QUIET_ENV, "").strip().lower()
        return quiet in ("", "0", "false", "no", "off")
    return bool(verbose)


def format_size(nbytes):
    """``1234567`` -> ``'1.2 MB'`` (decimal units, as download sizes are quoted)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return "%.1f %s" % (nbytes / scale, unit)
    return "%d B" % nbytes


def is_terminal(stream):
    """True when ``stream`` is an interactive terminal (a bar can be redrawn)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


class Progress:
    """Reports what a loader does, to ``stream`` (standard error by default).

    Parameters
    ----------
    enabled : bool
        False makes every method a no-op.
    stream : file-like, optional
        Where to write; a terminal gets a tqdm bar (size, rate, time left),
        anything else a line per finished file.
    """

    def __init__(self, enabled, stream=None):
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.tty = is_terminal(self.stream)
        self._label = None
        self._source = None
        self._done = 0
        self._bar = None

    def message(self, text):
        """One line of information (a failed mirror, the cache being written)."""
        if self.enabled:
            self._write("cnet: %s\n" % text)

    def start(self, label, total=None, source=None):
        """A transfer begins.

        ``label`` is short (it heads the bar, e.g. ``"downloading x.gz"``);
        ``source`` (a URL or path) is added to the final line; ``total`` is the
        size in bytes when known.
        """
        self._close_bar()
        self._label, self._source, self._done = label, source, 0
        if self.enabled and self.tty:
            try:
                self._bar = tqdm(total=total, desc="cnet: " + label, unit="B",
                                 unit_scale=True, unit_divisor=1000, file=self.stream,
                                 leave=False, mininterval=_REDRAW_SECONDS,
                                 dynamic_ncols=True, disable=False)
            except (OSError, ValueError):
                self._bar = None

    def advance(self, nbytes):
        """``nbytes`` more bytes have arrived."""
        self._done += nbytes
        if self._bar is not None:
            try:
                self._bar.update(nbytes)
            except (OSError, ValueError):
                self._bar = None

    def finish(self, note="done"):
        """The transfer ended; ``note`` says how (e.g. ``"done"``, ``"failed"``)."""
        self._close_bar()
        if not self.enabled:
            return
        source = " from %s" % self._source if self._source else ""
        text = "cnet: %s%s: %s (%s)" % (self._label, source, note, format_size(self._done))
        # On a terminal the final line replaces what is left of the bar.
        self._write(("\r\033[K" if self.tty else "") + text + "\n")

    def _close_bar(self):
        if self._bar is not None:
            bar, self._bar = self._bar, None
            try:
                bar.close()
            except (OSError, ValueError):
                pass

    def _write(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            # A closed or broken stream must never break loading the data.
            pass
