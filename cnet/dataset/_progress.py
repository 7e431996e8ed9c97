"""Download progress: a bar on a terminal, one line per file otherwise.

``verbose=None`` (the loaders' default) means "on unless ``CNET_QUIET`` is set"
(to anything but ``0``/``false``/``no``/``off``/empty); True or False decide
outright.
"""
import os
import shutil
import sys
import time

QUIET_ENV = "CNET_QUIET"
_BAR_WIDTH = 20
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


class Progress:
    """Reports what a loader does, to ``stream`` (standard error by default).

    Parameters
    ----------
    enabled : bool
        False makes every method a no-op.
    stream : file-like, optional
        Where to write; a terminal gets a redrawn bar, anything else a line
        per finished file.
    """

    def __init__(self, enabled, stream=None):
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        try:
            self.tty = bool(isatty and isatty())
        except (OSError, ValueError):
            self.tty = False
        self._label = None
        self._source = None
        self._total = None
        self._done = 0
        self._last_draw = 0.0

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
        self._label, self._total, self._done = label, total, 0
        self._source = source
        self._last_draw = 0.0
        if self.enabled and self.tty:
            self._draw()

    def advance(self, nbytes):
        """``nbytes`` more bytes have arrived."""
        self._done += nbytes
        if self.enabled and self.tty:
            now = time.monotonic()
            if now - self._last_draw >= _REDRAW_SECONDS:
                self._last_draw = now
                self._draw()

    def finish(self, note="done"):
        """The transfer ended; ``note`` says how (e.g. ``"done"``, ``"failed"``)."""
        if not self.enabled:
            return
        source = " from %s" % self._source if self._source else ""
        text = "cnet: %s%s: %s (%s)" % (self._label, source, note, format_size(self._done))
        if self.tty:
            # Overwrite the bar with the final line.
            self._write("\r\033[K" + text + "\n")
        else:
            self._write(text + "\n")

    def _draw(self):
        if self._total:
            frac = min(1.0, self._done / self._total)
            filled = int(round(frac * _BAR_WIDTH))
            bar = "[%s%s] %3d%% %s / %s" % (
                "#" * filled, "." * (_BAR_WIDTH - filled), int(frac * 100),
                format_size(self._done), format_size(self._total))
        else:
            bar = "%s" % format_size(self._done)
        line = "cnet: %s %s" % (self._label, bar)
        # Wider than the terminal, the line would wrap and \r could not redraw it.
        width = shutil.get_terminal_size().columns - 1
        self._write("\r\033[K" + line[:max(width, 20)])

    def _write(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            # A closed or broken stream must never break loading the data.
            pass
