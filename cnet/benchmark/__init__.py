"""cnet's benchmark suite: cnet, ``cnet.reference`` and (when installed) PyTorch on
the book's workloads, side by side in one process run, reported as ratios.

Run it with ``cnet bench`` (see ``cnet bench --help``); :func:`run_suite` is the
same from Python. Speed claims of the project come from here, never from tests.
"""
from .suite import WORKLOADS, run_suite

__all__ = ["run_suite", "WORKLOADS"]
