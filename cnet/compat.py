"""Run the book's scripts unmodified on cnet.

``python -m cnet.compat SCRIPT [ARGS...]`` runs a script of *Deep Learning from
Scratch* as ``python SCRIPT ARGS...`` would (its folder first on ``sys.path``,
``__name__ == "__main__"``, ``sys.argv`` as given, its exit status and its
traceback), with the book's packages resolved to cnet:

- ``common`` and ``common.X`` are ``cnet`` and ``cnet.X`` (``functions``,
  ``gradient``, ``layers``, ``optimizer``, ``util``, ``trainer``,
  ``multi_layer_net``, ``multi_layer_net_extend``) when this copy of cnet has
  ``cnet.X``; otherwise the book's own ``common/X.py`` is used if the script
  can see it.
- ``dataset`` and ``dataset.mnist`` are ``cnet.dataset`` and
  ``cnet.dataset.mnist``.
- A network module of the book beside the script (``ch04/two_layer_net.py``,
  ``ch05/two_layer_net.py``, ``ch07/simple_convnet.py``,
  ``ch08/deep_convnet.py``) runs as written, and then its class is replaced by
  cnet's compiled one, when the file is byte for byte a published version of
  the book's (its SHA-256, after turning CRLF line ends into LF, is one of
  :data:`BOOK_FILES`) and cnet has that class. One line on standard error says
  so. A file the reader changed keeps its own class; ``--no-swap`` (or
  ``install(swap=False)``) keeps every one.

``cnet.compat.install()`` does the same inside a running interpreter (Jupyter,
Colab) for every later import.
"""
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import traceback

__all__ = ["install", "uninstall", "run", "main", "BOOK_FILES", "ALIASES"]

# The book's package names and cnet's.
ALIASES = {
    "common": "cnet",
    "dataset": "cnet.dataset",
}

# The book's network modules that cnet replaces, with the SHA-256 of every
# published version (LF line ends) in the Japanese edition's repository
# (oreilly-japan/deep-learning-from-scratch) and the Korean one's
# (WegraLee/deep-learning-from-scratch), with the date each version was
# committed. Only versions that define the class with the book's interface are
# listed (the Japanese repository held a different "Network" class in
# ch05/two_layer_net.py from 2020-10-06 until it was reverted).
BOOK_FILES = {
    "two_layer_net@ch04": {
        "book_file": "ch04/two_layer_net.py",
        "cnet": ("cnet.two_layer_net", "TwoLayerNet"),
        "sha256": {
            "6d9d614a6209ed902a09bfff1c84af3df832e9af768069950f2959f01c8bc1ab":
                "ja, ko 2016-07-07",
            "2f6ee50bb243de04de4cf265e2ef8f5c3a6d25b59e84bc7f8724f9fbfc50e775": "ja 2016-11-19",
            "4f2c3ceee1da5b5bf4b10ea08f5187be277ef067d3f9a954466b0b8627ba778f":
                "ja, ko 2016-12-10",
            "0422276df40cc2117ae12e0d611feca037a507bed4bd747f8db478d1c231d250": "ja 2018-02-25",
            "6994eef0b3c9cfd6ca21b3d9621c157d29867b3de8258387a7aa01c21e844614":
                "ja 2019-03-28, 2023-06-29",
            "6d6ba05a8d75eff6a890eb411e3e1673817e210eaab94c7f3f9c8e7710f48c58": "ko 2025-01-17",
        },
    },
    "two_layer_net@ch05": {
        "book_file": "ch05/two_layer_net.py",
        "cnet": ("cnet.ch05_two_layer_net", "TwoLayerNet"),
        "sha256": {
            "f833e408caee28fd62a81af91422c38dd89a05f225fd413b34e8129133d4a9dd":
                "ja, ko 2016-07-07; ja 2023-06-29",
            "4a1bbb68dd41aad40408a72e4a3fb304120f71dd23b72fd8fdab51ef04fbfb5e":
                "ja, ko 2016-12-10",
            "959a9b39664b106814edfadf309eb1438382bd4da4a4a53807d629ae90d42b88":
                "ja, ko 2016-12-10",
            "594dcfddd1b5c09404e7f11327dad7575877a875f17758408c35ce2fc87dafac": "ja 2018-02-28",
            "c12265dcecbdf77a8ee5ce199671e12f1c68f54ab141b6e64ca5eb4efcf0868b": "ko 2025-01-17",
        },
    },
    "simple_convnet": {
        "book_file": "ch07/simple_convnet.py",
        "cnet": ("cnet.simple_convnet", "SimpleConvNet"),
        "sha256": {
            "2bd8ee69d38e9e47b41f032c3622cc3858914816285d85d30d6e39aea790cb2f":
                "ja, ko 2016-07-07",
            "cab0c1c6eb1011bb48e7497b2fc0d238e6163b06a88d69e127d7bdd51a9e6cbc":
                "ja, ko 2016-09-01",
            "d1f63fe7f7c54b8a1614b49c9b15cd8c4b56fceb30251f29b66ae85607a5bf7e":
                "ja, ko 2016-09-01; ja 2023-06-29",
            "a84c7794070ee462b844d9cb90b0541e8274e29bfe9132d7e9ab84a67911f60f":
                "ja, ko 2016-12-10",
            "3f138ef5d50ef584abba145454104d86ff0e25b532ae9a46789f8c8abaaea00b":
                "ja, ko 2016-12-10",
            "455837fa404ad00947677361520e1dd5c5bc66569180417a6291fea1bf5364ef": "ja 2018-03-01",
            "ad2a33a935ed4ae6b58ae469ff0347f2e7029563a1889695d6f9df94987a4879": "ko 2025-01-17",
            "efae6213556bf83b25beab6294665b58265422e35cc59f8be8d0fd49541019ba": "ko 2025-01-17",
            "b0b9b0ce092d0f146dc085981f6fbcdd70db12127c8e148cdd9b01b85135b529": "ko 2025-01-17",
            "25da82277166a0f672661e423b430f0e73309cfe83b79c344acfbe8465d4e659": "ko 2025-01-17",
        },
    },
    "deep_convnet": {
        "book_file": "ch08/deep_convnet.py",
        "cnet": ("cnet.deep_convnet", "DeepConvNet"),
        "sha256": {
            "6428d80ac4da7a40f0f66dff89d51fc1d68b43be86e36fdf6a1174db5dab65fe":
                "ja, ko 2016-07-07",
            "e71401b19407b31f89a5f42547fa2ec13428aac057f6f4470352c0f58c0f0c15":
                "ja, ko 2016-12-10",
            "73b12055ed9c5cea60f85cc75e9ef11c7c6c803356236769bc728cf520f1a3a1":
                "ja 2017-07-16, 2023-06-29",
            "34ca9bee314e5313867241ebdeec1a0e73189755efe81b2dabb03c3d0d0c0eac": "ja 2018-03-01",
            "fd9819dcb7a552083e7ff8aff1bb4f9860277580eaaa2b7a4fedef9afabbfc02": "ja 2021-06-10",
            "4cf7a6b89d5443851a2a0d04686ddd0ba5bac131c985aaf7f1c4030083a5fc3d": "ko 2025-01-17",
            "8a0b704f268cb2c20d97e86daa203a43ff1f461c30928a1db048fd7e14f4b1dd": "ko 2025-01-17",
            "874b2ccafd26a3e5adac16a31443e7c60678ba9fb62484a4caca20102f88853c": "ko 2025-01-17",
        },
    },
}


def file_digest(path):
    """SHA-256 (hex) of a file's bytes with CRLF line ends turned into LF."""
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def _module_exists(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _book_entry(path):
    """The BOOK_FILES entry whose published versions include the file at ``path``."""
    try:
        digest = file_digest(path)
    except OSError:
        return None
    for entry in BOOK_FILES.values():
        if digest in entry["sha256"]:
            return entry
    return None


class _Alias(importlib.abc.Loader):
    """Loads a book name (``common.functions``) as cnet's module object itself."""

    def __init__(self, target):
        self.target = target
        self._spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        # The import system stamps the new name's spec on the module it gets;
        # cnet's module keeps its own (restored in exec_module).
        self._spec = getattr(module, "__spec__", None)
        return module

    def exec_module(self, module):
        if self._spec is not None:
            module.__spec__ = self._spec


class _Swap(importlib.abc.Loader):
    """Runs a book network file as written, then puts cnet's class in its place."""

    def __init__(self, loader, entry, path):
        self.loader, self.entry, self.path = loader, entry, path

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        target, name = self.entry["cnet"]
        setattr(module, name, getattr(importlib.import_module(target), name))
        print("cnet.compat: %s is the book's %s; its %s is %s.%s (compiled). "
              "Use --no-swap to run the file's own class."
              % (os.path.relpath(self.path), self.entry["book_file"], name, target, name),
              file=sys.stderr)


class BookFinder(importlib.abc.MetaPathFinder):
    """Resolves the book's ``common`` and ``dataset`` to cnet, and swaps its networks."""

    def __init__(self, swap=True):
        self.swap = swap

    def find_spec(self, fullname, path=None, target=None):
        head, _, rest = fullname.partition(".")
        if head in ALIASES:
            return self._alias_spec(fullname, head, rest)
        if self.swap and "." not in fullname:
            return self._swap_spec(fullname)
        return None

    def _alias_spec(self, fullname, head, rest):
        cnet_name = ALIASES[head] + ("." + rest if rest else "")
        if _module_exists(cnet_name):
            is_package = hasattr(importlib.import_module(cnet_name), "__path__")
            return importlib.machinery.ModuleSpec(fullname, _Alias(cnet_name),
                                                  is_package=is_package)
        if not rest:
            return None
        # Not in cnet (yet): the book's own file, where the script can see it.
        for folder in sys.path:
            candidate = os.path.join(folder or os.getcwd(), head, *rest.split(".")) + ".py"
            if os.path.isfile(candidate):
                return importlib.util.spec_from_file_location(fullname, candidate)
        return None

    def _swap_spec(self, fullname):
        if not any(key.split("@")[0] == fullname for key in BOOK_FILES):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, sys.path)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        entry = _book_entry(spec.origin)
        if entry is None or not _module_exists(entry["cnet"][0]):
            return None
        spec.loader = _Swap(spec.loader, entry, spec.origin)
        return spec


def install(swap=True):
    """Resolve the book's imports to cnet in this interpreter (a notebook, a REPL).

    After ``cnet.compat.install()``, ``from common.functions import softmax``
    gives ``cnet.functions.softmax``, ``from dataset.mnist import load_mnist``
    cnet's loader, and ``from two_layer_net import TwoLayerNet`` (in the
    book's ``ch04`` folder) cnet's compiled network when the file is the
    book's unmodified one.

    Parameters
    ----------
    swap : bool
        Replace the book's unmodified network classes by cnet's (default).

    Returns
    -------
    BookFinder
        The import hook installed (``uninstall()`` removes it).
    """
    uninstall()
    for name in list(sys.modules):
        if name.partition(".")[0] in ALIASES and not _is_alias(name):
            print("cnet.compat: %s was imported before install() (from %s); restart the "
                  "kernel and call cnet.compat.install() first"
                  % (name, getattr(sys.modules[name], "__file__", "?")), file=sys.stderr)
            break
    finder = BookFinder(swap=swap)
    sys.meta_path.insert(0, finder)
    return finder


def _is_alias(name):
    module = sys.modules.get(name)
    return getattr(module, "__name__", "").startswith("cnet")


def uninstall():
    """Remove the import hook of :func:`install` and the book names it created."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, BookFinder)]
    for name in list(sys.modules):
        if name.partition(".")[0] in ALIASES and _is_alias(name):
            del sys.modules[name]


def run(script, args=(), swap=True):
    """Run ``script`` as ``python script args...`` would, on cnet (see the module doc).

    Returns normally when the script ends; its ``SystemExit`` and exceptions
    propagate.
    """
    script = os.fspath(script)
    sys.argv = [script, *args]
    sys.path[0:1] = [os.path.dirname(os.path.abspath(script))]
    install(swap=swap)
    runpy.run_path(script, run_name="__main__")


_USAGE = """usage: python -m cnet.compat [--no-swap] SCRIPT [ARGS...]

Runs a script of 'Deep Learning from Scratch' unmodified, with common.* and
dataset.mnist resolved to cnet, and the book's unmodified network files
(ch04/two_layer_net.py, ...) running on cnet's compiled classes.

  --no-swap   keep the script's own network classes (only common/dataset map to cnet)
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    swap = True
    while argv and argv[0].startswith("-"):
        opt = argv.pop(0)
        if opt in ("-h", "--help"):
            print(_USAGE, end="")
            return 0
        if opt == "--no-swap":
            swap = False
        elif opt == "--":
            break
        else:
            print("python -m cnet.compat: error: unknown option %s\n%s" % (opt, _USAGE),
                  end="", file=sys.stderr)
            return 2
    if not argv:
        print(_USAGE, end="", file=sys.stderr)
        return 2
    script = argv[0]
    if os.path.isdir(script):
        print("python -m cnet.compat: error: %s is a folder, not a script" % script,
              file=sys.stderr)
        return 2
    if not os.path.isfile(script):
        print("python -m cnet.compat: error: no such script: %s" % script, file=sys.stderr)
        return 2
    try:
        run(script, argv[1:], swap=swap)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        # The traceback as ``python SCRIPT`` prints it: from the script's frame on.
        tb = exc.__traceback__
        script_path = os.path.abspath(script)
        while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != script_path:
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
