"""cnet: the common/ modules and dataset/mnist.py of *Deep Learning from Scratch*,
with compiled Cython/OpenMP kernels and the book's API.

The book's ``common.X`` is ``cnet.X``; its ``dataset.mnist`` is
``cnet.dataset.mnist``. Frequently used names are also available at the top
level: ``cnet.TwoLayerNet``, ``cnet.SGD``, ``cnet.load_mnist``.
"""
import importlib
import os

# Set before the OpenMP runtime loads (with cnet's first compiled module):
# cnet's parallel regions are short (a batch of 100 images takes a fraction
# of a millisecond) and Python runs between them. By default OpenMP threads
# spin after each region, taking a core from the Python thread and from every
# other process; on a busy 2-core machine that made the book's training loop
# six times slower than threads that sleep at once. Sleeping at once costs a
# wake-up per region on an idle machine, though (about 20 % of a gradient
# step); GNU OpenMP (libgomp, Linux) can spin briefly first, and 10,000 spins
# (a few hundred microseconds on the development machine: enough to span the
# ~150 us of the book's loop between two calls, far less than libgomp's
# default) recovered that cost without the busy-machine slowdown. Values set by the user win. Both settings apply to the
# whole process, so to other OpenMP libraries loaded after cnet too.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

from ._version import __version__  # noqa: E402


def _source_tree_error():
    """ImportError for ``import cnet`` run inside an unbuilt source checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    return ImportError(
        "cnet is being imported from its source folder %s, where its compiled modules "
        "are not built. Leave the source folder (cd elsewhere) and start Python again "
        "to use the installed cnet, or build this copy in place with "
        "`pip install -e .`." % here)


try:
    from .config import get_num_threads, set_num_threads, show_config  # noqa: E402
except ImportError as _exc:
    # Python puts the current folder first on sys.path, so in a checkout
    # ``import cnet`` finds the uncompiled sources; say so instead of the
    # circular-import message Python would print.
    if os.path.isfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_config.pyx")):
        raise _source_tree_error() from None
    raise

# Public names that live in submodules, imported on first use so that
# ``import cnet`` stays cheap and one missing optional piece never breaks the rest.
_LAZY = {
    "TwoLayerNet": "cnet.two_layer_net",
    "SGD": "cnet.optimizer",
    "MultiLayerNet": "cnet.multi_layer_net",
    "MultiLayerNetExtend": "cnet.multi_layer_net_extend",
    "Trainer": "cnet.trainer",
    "SimpleConvNet": "cnet.simple_convnet",
    "DeepConvNet": "cnet.deep_convnet",
    "load_mnist": "cnet.dataset.mnist",
    "load_fashion_mnist": "cnet.dataset.fashion_mnist",
}
# Every public submodule, whether or not this copy has it yet; only those
# that exist are offered as attributes (see _submodules).
_SUBMODULES = (
    "functions", "gradient", "reference", "optimizer", "two_layer_net", "dataset",
    "layers", "util", "trainer", "multi_layer_net", "multi_layer_net_extend",
    "ch05_two_layer_net", "cli", "compat", "training", "plot",
    "simple_convnet", "deep_convnet", "params_io", "layer_sequence",
)


def _submodules():
    """The names of ``_SUBMODULES`` that this installed copy holds."""
    import importlib.util
    return tuple(name for name in _SUBMODULES
                 if importlib.util.find_spec("cnet." + name) is not None)

__all__ = ["__version__", "get_num_threads", "set_num_threads", "show_config",
           *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES and name in _submodules():
        return importlib.import_module("cnet." + name)
    raise AttributeError("module 'cnet' has no attribute %r" % name)


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_submodules()))
