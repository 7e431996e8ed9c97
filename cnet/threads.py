"""How cnet shares the cores with NumPy's BLAS.

cnet's networks mix two kinds of work: its own compiled kernels (OpenMP
threads, :func:`cnet.config.set_num_threads`) and NumPy's BLAS products (the
dense hidden layers' ``np.dot``, the convolutions' unfolded products). A
threaded BLAS leaves a worker spinning on a core for a while after each call
(OpenBLAS: about 0.1 s), and cnet's threads that run next then wait for that
core; on a busy machine a threaded 128 x 100 x 100 product alone took 100 times
longer than on one thread. So the rule inside cnet is:

- **BLAS runs on one thread while cnet works** (:class:`blas_held`). A
  network call (``gradient``, ``loss``, ``predict``, ``accuracy``) and each
  layer call holds NumPy's BLAS to one thread and gives the user's setting
  back when it returns, so the user's own NumPy code is unaffected. Holds
  nest: only the outermost one changes and restores the setting.
- **cnet splits large products itself** (:func:`dot`): rows of the product in
  fixed blocks (chosen from the shapes only, so 1 and N threads give the same
  bits) handed to cnet's threads by :func:`run_chunks`, each block one
  single-threaded product (:func:`product_into`).

The BLAS setting is one per process: while a cnet call runs, NumPy code in
another Python thread also gets one BLAS thread.
"""
import _thread
import itertools
import queue
import threading

import numpy as np

from . import _conv
from .config import get_num_threads

__all__ = ["blas_held", "dot", "run_chunks"]

# Multiply-adds below which a product is one BLAS call: splitting it costs
# more (waking a pool thread is tens of microseconds) than it saves.
SPLIT_WORK = 4_000_000
# Multiply-adds per block of rows when a product is split, and the most
# blocks: each block reads all of b again, so few large blocks.
BLOCK_WORK = 2_000_000
MAX_BLOCKS = 4
# Multiply-adds of a block at most, whatever MAX_BLOCKS says: Ctrl-C is
# answered between blocks, so a product over a whole data set answers it
# within a few tens of ms (RELIABILITY.md).
INTERRUPT_WORK = 1 << 28

# cnet's register-tiled product (cnet._conv.gemm) where it runs its AVX-512
# path, where it was 1.4-2.2x NumPy's OpenBLAS (whose kernels there were its
# AVX2 ones) on the networks' shapes (bench/PROFILE_layers.md); NumPy's BLAS
# elsewhere, where BLAS's fused multiply-adds do twice the work per
# instruction of the product's separate ones.
OWN_PRODUCT = _conv.gemm_best() == _conv.GEMM_PATHS["avx512f"]
# Columns of b below which BLAS stays: the product's AVX-512 register tile is
# two vectors wide (16 float64, 32 float32), narrower products take its
# slower paths.
_OWN_MIN_COLUMNS = {np.dtype(np.float64): 16, np.dtype(np.float32): 32}

_lock = threading.Lock()
_depth = 0          # nesting of blas_held in the process
_saved = []         # (controller, user's thread count) to give back
_libs = None        # threadpoolctl's controllers of the loaded BLAS libraries


def _blas_libs():
    """The BLAS libraries loaded in the process (found once: scanning them
    costs milliseconds), as threadpoolctl controllers."""
    global _libs
    if _libs is None:
        try:
            from threadpoolctl import ThreadpoolController
            _libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:  # no threadpoolctl support here: nothing to hold
            _libs = []
    return _libs


class blas_held:
    """Context: BLAS on one thread inside, the previous setting restored after.

    Costs about 2 us (one ``openblas_get_num_threads`` and, when BLAS had
    more than one thread, two ``openblas_set_num_threads`` calls) for the
    outermost hold, a counter for nested ones.
    """

    __slots__ = ()

    def __enter__(self):
        global _depth
        with _lock:
            if _depth == 0:
                try:
                    for lib in _blas_libs():
                        n = lib.get_num_threads()
                        if n is not None and n != 1:
                            lib.set_num_threads(1)
                            _saved.append((lib, n))
                except BaseException:  # Ctrl-C half-way: give the setting back
                    _restore()
                    raise
            # Last, so that an interrupt before it leaves no hold behind.
            _depth += 1
        return self

    def __exit__(self, *exc):
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0:
                _restore()
        return False


def _restore():
    """Give BLAS the thread counts saved by the outermost hold (under _lock)."""
    while _saved:
        lib, n = _saved.pop()
        lib.set_num_threads(n)


# cnet's pool: threads that run the jobs put in _tasks. They are started
# with _thread, and the caller waits on queue.SimpleQueue, both written in C:
# the Python-level locks of threading's Event and Semaphore (and so of
# concurrent.futures) stay held for good when Ctrl-C lands inside them, and
# the pool then hangs the process at its next call or at exit.
_tasks = queue.SimpleQueue()
_pool_size = 0
_pool_lock = threading.Lock()


def _serve():
    while True:
        _tasks.get()()


def _grow_pool(n):
    """Start pool threads until there are n of them."""
    global _pool_size
    with _pool_lock:
        while _pool_size < n:
            _thread.start_new_thread(_serve, ())
            _pool_size += 1


def run_chunks(work, nchunks, blas=True):
    """Call work(i, buffers) for every chunk i < nchunks, on cnet's threads.

    The calling thread and nt - 1 pool threads each take the next chunk when
    done with one, and run all of a chunk's steps alone (BLAS held to one
    thread meanwhile, when ``blas``). The call returns once every chunk is
    done, without waiting for a pool thread that never got a core to start
    (it then finds no chunk left): on a busy machine the work degrades to one
    thread instead of stalling. work gets a dict for its buffers, one per
    thread. The first exception raised by a chunk is raised here; after it,
    or after Ctrl-C in the calling thread, no chunk is started (one running
    on a pool thread finishes).
    """
    nt = min(get_num_threads(), nchunks)
    with blas_held() if blas else _nothing():
        if nt <= 1:
            buffers = {}
            for i in range(nchunks):
                work(i, buffers)
            return
        _grow_pool(nt - 1)
        order = itertools.count()
        # One None per finished chunk, or the exception that stopped one.
        done = queue.SimpleQueue()
        stop = []  # not empty once a chunk failed or the caller was interrupted

        def worker():
            buffers = {}
            for i in order:
                if i >= nchunks or stop:
                    return
                try:
                    work(i, buffers)
                except BaseException as e:  # handed to the caller below
                    stop.append(e)
                    done.put(e)
                    return
                done.put(None)

        for _ in range(nt - 1):
            _tasks.put(worker)
        try:
            worker()
            for _ in range(nchunks):
                error = done.get()
                if error is not None:
                    raise error
        except BaseException:  # Ctrl-C or a failed chunk: the pool takes no more chunks
            stop.append(None)
            raise


class _nothing:
    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def dot(a, b):
    """a·b as ``np.dot`` computes it, with BLAS held to one thread and large
    products split by rows of a over cnet's threads.

    Parameters
    ----------
    a : ndarray, shape (M, K)
    b : ndarray, shape (K, N)

    Returns
    -------
    ndarray, shape (M, N), NumPy's result dtype.

    Blocks of rows depend on the shapes only, and each block is one
    :func:`product_into`, so the result has the same bits for any number of
    threads; it may differ from a single ``np.dot`` call in the last bits
    (BLAS sums in an order of its own, and may block a smaller product
    differently).
    """
    M = a.shape[0]
    work = M * a.shape[1] * b.shape[1] if a.ndim == 2 and b.ndim == 2 else 0
    if a.ndim != 2 or b.ndim != 2:
        with blas_held():
            return np.dot(a, b)
    if work < SPLIT_WORK and _depth:
        # Inside a network call, which holds BLAS already (the usual case).
        return _dot_once(a, b)
    if work < SPLIT_WORK or get_num_threads() < 2:
        if work >= SPLIT_WORK:
            return _split_dot(a, b, M, work, 1)
        with blas_held():
            return _dot_once(a, b)
    return _split_dot(a, b, M, work, get_num_threads())


def product_into(a, b, out):
    """out = a·b on the calling thread: cnet's product where it is the faster
    (see ``OWN_PRODUCT``: every product summed over k in order, so the bits
    do not depend on how rows are blocked), NumPy's ``np.dot`` otherwise.

    Parameters
    ----------
    a : ndarray, shape (M, K), IN
    b : ndarray, shape (K, N), IN
    out : ndarray, shape (M, N), C-contiguous, dtype ``np.result_type(a, b)``, OUT
    """
    dtype = out.dtype
    if (OWN_PRODUCT and a.dtype == dtype and b.dtype == dtype and a.shape[1] > 0
            and b.shape[1] >= _OWN_MIN_COLUMNS.get(dtype, 1 << 62)):
        # A transposed or unaligned operand (xᵀ, Wᵀ of a layer's backward) is
        # copied to aligned rows: a batch-sized copy, a small part of the
        # product's time; the kernel's loads need aligned elements.
        _conv.gemm(np.require(a, requirements="CA"), np.require(b, requirements="CA"), out)
    else:
        np.dot(a, b, out=out)


def _dot_once(a, b):
    out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
    product_into(a, b, out)
    return out


def _split_dot(a, b, M, work, nt):
    rows = -(-M // max(1, min(MAX_BLOCKS, work // BLOCK_WORK)))
    rows = min(rows, max(1, INTERRUPT_WORK // max(1, a.shape[1] * b.shape[1])))
    nblocks = -(-M // rows)
    out = np.empty((M, b.shape[1]), np.result_type(a, b))

    def block(i, buffers):
        r0 = i * rows
        product_into(a[r0:r0 + rows], b, out[r0:r0 + rows])

    if nt < 2:
        with blas_held():
            for i in range(nblocks):
                block(i, None)
    else:
        run_chunks(block, nblocks)
    return out
