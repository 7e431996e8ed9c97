"""The convolution's matrix products and where a training step's time goes
on cnet's threads.

    python bench/profile_conv_products.py kernels [--dtype float64]
    python bench/profile_conv_products.py steps [--net simple|deep] [--threads 2] [--rounds 15]
    python bench/profile_conv_products.py threads [--net simple|deep] [--rounds 15]

``kernels``: GFLOPS of each path of ``cnet._conv.gemm`` (the ones this build
and CPU have) and of NumPy's ``np.dot`` on one BLAS thread, on one chunk's
shapes of the book's two networks (forward W·col, dx's Wᵀ·dout, dWᵀ =
col·doutᵀ); thread CPU time, median of 60 calls.

``steps``: a training step (gradient + Adam, batch 100 MNIST images) with the
layer's products on NumPy's BLAS and on cnet's kernel, alternated in one
process (``cnet.benchmark.timing.alternate``, one step per call after a
rest, as ``cnet bench``), medians of wall and process CPU time.

``threads``: one step after a rest, on 2 threads: the CPU time spent inside
the chunks handed to cnet's threads (work both threads can share), and the
calling thread's CPU time outside them (serial: Python between the layers,
the small layers, Adam), medians.
"""
import argparse
import statistics
import time

import numpy as np


def _load():
    from cnet.benchmark.data import load_benchmark_mnist
    ((x_train, t_train), _), _source = load_benchmark_mnist()
    return x_train[:100].reshape(100, 1, 28, 28), t_train[:100]


def _network(net, dtype):
    from cnet.deep_convnet import DeepConvNet
    from cnet.optimizer import Adam
    from cnet.simple_convnet import SimpleConvNet
    np.random.seed(0)
    return (SimpleConvNet if net == "simple" else DeepConvNet)(dtype=dtype), Adam()


def _load_average():
    return open("/proc/loadavg").read().split()[0]


def kernels(a):
    from threadpoolctl import threadpool_limits
    from cnet import _conv
    dtype = np.dtype(a.dtype)
    # (what, M, K, N): SimpleConvNet's 8-image chunk, DeepConvNet's conv1-conv6
    # chunks (1 to 17 images), their dx and dW products.
    shapes = [("simple conv1 W·col", 30, 25, 4608), ("simple conv1 dWᵀ", 25, 4608, 30),
              ("deep conv1 W·col", 16, 9, 9408), ("deep conv2 W·col", 16, 144, 784),
              ("deep conv2 Wᵀ·dout", 144, 16, 784), ("deep conv2 dWᵀ", 144, 784, 16),
              ("deep conv4 W·col", 32, 288, 256), ("deep conv4 Wᵀ·dout", 288, 32, 256),
              ("deep conv6 W·col", 64, 576, 192), ("deep conv6 dWᵀ", 576, 192, 64)]
    best = _conv.gemm_best()
    paths = {n: p for n, p in _conv.GEMM_PATHS.items() if p <= best}
    rng = np.random.default_rng(0)
    print("GFLOPS on one thread, %s, median of 60 calls; load %s; cnet best path %s"
          % (dtype.name, _load_average(), [n for n, p in paths.items() if p == best][0]))
    print("| product | M x K x N | " + " | ".join("cnet %s" % n for n in paths) + " | np.dot |")
    print("|---|---|" + "---|" * (len(paths) + 1))
    with threadpool_limits(1, "blas"):
        for what, M, K, N in shapes:
            A = rng.random((M, K)).astype(dtype)
            B = rng.random((K, N)).astype(dtype)
            C = np.empty((M, N), dtype)
            fns = {n: (lambda p=p: _conv.gemm(A, B, C, p)) for n, p in paths.items()}
            fns["np.dot"] = lambda: np.dot(A, B, out=C)
            cells = []
            for fn in fns.values():
                times = []
                for _ in range(60):
                    t0 = time.thread_time()
                    fn()
                    times.append(time.thread_time() - t0)
                cells.append("%.1f" % (2 * M * K * N / statistics.median(times) / 1e9))
            print("| %s | %d x %d x %d | %s |" % (what, M, K, N, " | ".join(cells)))


def steps(a):
    import cnet
    import cnet.layers.convolution as conv
    from cnet.benchmark.timing import alternate
    cnet.set_num_threads(a.threads)
    x, t = _load()

    def make(own):
        net, opt = _network(a.net, np.dtype(a.dtype))

        def run():
            conv._own_product = own
            opt.update(net.params, net.gradient(x, t))
        return run
    load = _load_average()
    med = alternate({"BLAS products": make(False), "cnet products": make(True)}, a.rounds)
    print("%s step, %s, %d thread(s), median of %d; load %s -> %s"
          % (a.net, a.dtype, a.threads, a.rounds, load, _load_average()))
    for name, (wall, cpu) in med.items():
        print("  %-14s wall %8.2f ms  cpu %8.2f ms" % (name, wall * 1e3, cpu * 1e3))
    (w0, c0), (w1, c1) = med["BLAS products"], med["cnet products"]
    print("  cnet / BLAS: wall %.3f, cpu %.3f" % (w1 / w0, c1 / c0))


def threads(a):
    import cnet
    import cnet.layers.convolution as conv
    import cnet.threads as th
    cnet.set_num_threads(2)
    seen = {"chunks": 0.0, "inside": 0.0}
    run_chunks = th.run_chunks

    def timed_run_chunks(work, nchunks, blas=True):
        def timed(i, buffers):
            c0 = time.thread_time()
            work(i, buffers)
            seen["chunks"] += time.thread_time() - c0
        c0 = time.thread_time()
        run_chunks(timed, nchunks, blas)
        seen["inside"] += time.thread_time() - c0
    th.run_chunks = conv._run_chunks = timed_run_chunks
    x, t = _load()
    net, opt = _network(a.net, np.dtype(a.dtype))
    rows = []
    for r in range(a.rounds + 2):
        time.sleep(0.15)
        seen["chunks"] = seen["inside"] = 0.0
        w0, p0, c0 = time.perf_counter(), time.process_time(), time.thread_time()
        opt.update(net.params, net.gradient(x, t))
        w1, p1, c1 = time.perf_counter(), time.process_time(), time.thread_time()
        if r >= 2:
            rows.append((w1 - w0, p1 - p0, seen["chunks"], (c1 - c0) - seen["inside"]))
    print("%s step, %s, 2 threads, one step after a rest, median of %d; load %s"
          % (a.net, a.dtype, a.rounds, _load_average()))
    for i, name in enumerate(("wall", "process CPU", "CPU inside chunks (both threads)",
                              "calling thread's CPU outside chunks (serial)")):
        print("  %-46s %8.2f ms" % (name, statistics.median(r[i] for r in rows) * 1e3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("kernels", "steps", "threads"))
    ap.add_argument("--net", choices=("simple", "deep"), default="simple")
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    {"kernels": kernels, "steps": steps, "threads": threads}[a.what](a)


if __name__ == "__main__":
    main()
