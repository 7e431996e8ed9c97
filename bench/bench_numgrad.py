"""One numerical-gradient step of TwoLayerNet(784, 50, 10) on 100 real MNIST images.

cnet's incremental kernel against the book's brute force (cnet.reference), in
one process run, with 1 and 2 threads. Prints a Markdown report.

    python bench/bench_numgrad.py [--rounds 5] [--repeats 20] [--sample 200] [--full-ref 1]

The weights are the book's initial ones after np.random.seed(0)
(weight_init_std=0.01), the batch is the first 100 training images scaled to
[0, 1] as float32 (what load_mnist(normalize=True) returns). MNIST is read
with cnet.dataset.mnist.load_mnist (set $CNET_MNIST_MIRROR when offline).

Two reference figures:
- the book's full loop (``reference.TwoLayerNet.numerical_gradient``), run
  --full-ref times (median), checked against cnet's result;
- the book's per-parameter cost (store v + h, loss, store v - h, loss,
  restore: the body of its loop) on a random sample of --sample parameters,
  measured in --rounds rounds interleaved with cnet's timings, so that both
  see the same machine load; times 39,760 parameters it is the reference's
  step cost, and the ratio is taken per round (median over rounds).
On a shared machine the interleaved ratio is the one to quote: a full
reference run takes minutes, during which the load may change.
"""
import argparse
import platform
import statistics
import sys
import time

import numpy as np

import cnet
from cnet import reference
from cnet._netgrad import numerical_gradient

KEYS = ("W1", "b1", "W2", "b2")
H_STEP = 1e-4


def median_time(fn, repeats, all_times=None):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    if all_times is not None:
        all_times.extend(times)
    return statistics.median(times)


def book_params_time(net, x, t, sample):
    """Seconds per parameter of the book's numerical_gradient loop body."""
    t0 = time.perf_counter()
    for key, idx in sample:
        P = net.params[key]
        tmp_val = P[idx]
        P[idx] = float(tmp_val) + H_STEP
        fxh1 = net.loss(x, t)
        P[idx] = tmp_val - H_STEP
        fxh2 = net.loss(x, t)
        _ = (fxh1 - fxh2) / (2 * H_STEP)
        P[idx] = tmp_val
    return (time.perf_counter() - t0) / len(sample)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    ap.add_argument("--repeats", type=int, default=20, help="cnet calls per round (median)")
    ap.add_argument("--sample", type=int, default=200, help="reference parameters per round")
    ap.add_argument("--full-ref", type=int, default=1,
                    help="full reference runs (median; each takes 20 s to minutes); 0 skips")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--ref-blas-threads", type=int, default=1,
                    help="BLAS threads for cnet.reference (default 1: on a shared 2-core "
                         "machine OpenBLAS threads make the reference 10-20x slower)")
    args = ap.parse_args(argv)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        sys.exit("threadpoolctl is needed to pin the reference's BLAS threads")

    from cnet.dataset.mnist import load_mnist
    (x_train, t_train), _ = load_mnist(normalize=True, verbose=False)
    x = x_train[:args.batch]
    t = t_train[:args.batch].astype(np.intp)
    np.random.seed(0)
    ref_net = reference.TwoLayerNet(784, 50, 10, weight_init_std=0.01)
    p = ref_net.params
    args_c = (x, t, p["W1"], p["b1"], p["W2"], p["b2"])
    n_params = sum(v.size for v in p.values())
    rng = np.random.default_rng(0)
    flat = [(k, idx) for k in KEYS for idx in np.ndindex(*p[k].shape)]

    threads_before = cnet.get_num_threads()
    numerical_gradient(*args_c)  # warm-up: pages, thread team
    rounds = []
    every = {1: [], 2: []}
    with threadpool_limits(args.ref_blas_threads, user_api="blas"):
        for _ in range(args.rounds):
            row = {}
            for nt in (1, 2):
                cnet.set_num_threads(nt)
                numerical_gradient(*args_c)
                row[nt] = median_time(lambda: numerical_gradient(*args_c), args.repeats,
                                      every[nt])
            cnet.set_num_threads(threads_before)
            sample = [flat[k] for k in rng.choice(len(flat), args.sample, replace=False)]
            row["ref"] = book_params_time(ref_net, x, t, sample) * n_params
            rounds.append(row)
        ours = dict(zip(KEYS, numerical_gradient(*args_c)))
        full = []
        ref_grads = None
        for _ in range(args.full_ref):
            t0 = time.perf_counter()
            ref_grads = ref_net.numerical_gradient(x, t)
            full.append(time.perf_counter() - t0)

    loss = float(ref_net.loss(x, t))
    blas = ", ".join("%s %s threads" % (i.get("internal_api"), i.get("num_threads"))
                     for i in threadpool_info() if i.get("user_api") == "blas")
    med = {k: statistics.median(r[k] for r in rounds) for k in (1, 2, "ref")}
    ratio = {nt: statistics.median(r["ref"] / r[nt] for r in rounds) for nt in (1, 2)}
    scaling = statistics.median(r[1] / r[2] for r in rounds)

    print("## numerical_gradient step: TwoLayerNet(784, 50, 10), batch %d real MNIST images"
          % args.batch)
    print()
    print("python %s, numpy %s (BLAS: %s; the reference ran with %d), cnet %s, %s"
          % (platform.python_version(), np.__version__, blas or "none found",
             args.ref_blas_threads, cnet.__version__,
             cnet.config.config_info().get("simd_dispatch", "")))
    print("batch density (non-zeros): %.3f; parameters: %d; loss %.6f"
          % (float((x != 0).mean()), n_params, loss))
    print()
    print("Interleaved: %d rounds of (cnet median of %d calls with 1 and 2 threads, "
          "the book's loop body on %d random parameters x %d)."
          % (args.rounds, args.repeats, args.sample, n_params))
    print()
    print("| round | reference step (extrapolated) | cnet 1 thread | cnet 2 threads "
          "| speed-up 1 thread | speed-up 2 threads | 2 vs 1 thread |")
    print("|---|---|---|---|---|---|---|")
    for k, r in enumerate(rounds):
        print("| %d | %.2f s | %.3f ms | %.3f ms | %.0fx | %.0fx | %.2fx |"
              % (k + 1, r["ref"], r[1] * 1e3, r[2] * 1e3, r["ref"] / r[1],
                 r["ref"] / r[2], r[1] / r[2]))
    print("| **median** | **%.2f s** | **%.3f ms** | **%.3f ms** | **%.0fx** | **%.0fx** "
          "| **%.2fx** |"
          % (med["ref"], med[1] * 1e3, med[2] * 1e3, ratio[1], ratio[2], scaling))
    print()
    print("Fastest single call (the machine momentarily quiet): %.3f ms with 1 thread, "
          "%.3f ms with 2 threads (%.2fx)."
          % (min(every[1]) * 1e3, min(every[2]) * 1e3, min(every[1]) / min(every[2])))
    print()
    if full:
        fm = statistics.median(full)
        err = max(float(np.abs(ours[k] - ref_grads[k]).max()) for k in KEYS)
        print("Full reference run (the book's loop, all %d parameters): %s s (median %.2f s); "
              "vs cnet's median above: %.0fx (1 thread), %.0fx (2 threads)."
              % (n_params, ", ".join("%.2f" % v for v in full), fm, fm / med[1], fm / med[2]))
        print("max |cnet - reference| over all entries: %.2e (reference rounding noise "
              "8 eps L / h = %.1e)" % (err, 8 * np.finfo(np.float64).eps * loss / H_STEP))


if __name__ == "__main__":
    main()
