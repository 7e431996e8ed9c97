"""One SimpleConvNet training step (gradient + Adam, batch 100), layer by
layer: wall time, process CPU time and the arithmetic and memory each part
must do, so that each can be set against the machine's limits.

    python bench/profile_conv_step.py [--threads N] [--dtype float64] [--rounds 20]

Each part is timed by itself, in the order a step runs them, for ``rounds``
steps; the table gives medians. Process CPU time counts every thread
(BLAS's spinning workers included), so CPU > wall * threads means threads
were busy elsewhere, and CPU >> wall on one thread means spinning.
"""
import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import cnet
from cnet.optimizer import Adam
from cnet.simple_convnet import SimpleConvNet


def parts(net, opt, x, t, fused=True):
    """(name, callable, GFLOP, MB moved at least) for each part of a step."""
    L = net.layers
    conv, pool, a1, r2, a2 = L["Conv1"], L["Pool1"], L["Affine1"], L["Relu2"], L["Affine2"]
    last = net.last_layer
    st = {}
    it = x.dtype.itemsize if x.dtype == net.dtype else np.dtype(net.dtype).itemsize
    N = x.shape[0]
    FN, C, FH, FW = net.params["W1"].shape
    OH = x.shape[2] - FH + 1
    P, K = OH * OH, C * FH * FW
    H1, O1 = net.params["W2"].shape
    act = N * FN * P * it / 1e6            # the conv output, MB
    pooled = act / 4

    def f_conv():
        st["c"] = conv._forward(x, True)

    def f_conv_pool():
        st["p"] = conv._forward(x, True, pool)

    def f_pool():
        st["p"] = pool.forward(st["c"])

    def f_a1():
        st["a1"] = a1.forward(st["p"])

    def f_r2():
        st["r2"] = r2.forward(st["a1"])

    def f_a2():
        st["a2"] = a2.forward(st["r2"])

    def f_loss():
        last.forward(st["a2"], t)

    def b_loss():
        st["d"] = last.backward(1)

    def b_a2():
        st["d"] = a2.backward(st["d"])

    def b_r2():
        st["d"] = r2.backward(st["d"])

    def b_a1():
        st["d"] = a1.backward(st["d"])

    def b_pool():
        st["d"] = pool.backward(st["d"])

    def b_conv():
        conv._backward(st["d"], False)

    def adam():
        grads = {"W1": conv.dW, "b1": conv.db, "W2": a1.dW, "b2": a1.db,
                 "W3": a2.dW, "b3": a2.db}
        opt.update(net.params, grads)

    g = 1e-9
    head = [("conv+relu+pool forward", f_conv_pool, 2 * N * FN * K * P * g,
             pooled * 1.5 + N * P * K * it / 1e6)] if fused else [
        ("conv+relu forward", f_conv, 2 * N * FN * K * P * g, act + N * P * K * it / 1e6),
        ("pool forward", f_pool, 0, act + pooled * 1.5)]
    tail = [("conv+relu+pool backward (dW, db)", b_conv, 2 * N * FN * K * P * g,
             2.5 * pooled + N * P * K * it / 1e6)] if fused else [
        ("pool backward", b_pool, 0, pooled * 2.5 + act),
        ("conv+relu backward (dW, db)", b_conv, 2 * N * FN * K * P * g,
         2 * act + N * P * K * it / 1e6)]
    return head + [
        ("affine1 forward", f_a1, 2 * N * H1 * O1 * g, pooled + H1 * O1 * it / 1e6),
        ("relu2 forward", f_r2, 0, 0),
        ("affine2 forward", f_a2, 0, 0),
        ("softmax+loss forward", f_loss, 0, 0),
        ("softmax+loss backward", b_loss, 0, 0),
        ("affine2 backward", b_a2, 0, 0),
        ("relu2 backward", b_r2, 0, 0),
        ("affine1 backward (dW, dx)", b_a1, 4 * N * H1 * O1 * g,
         2 * pooled + 2 * H1 * O1 * it / 1e6),
    ] + tail + [("Adam", adam, 0, 0)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--unfused", action="store_true",
                    help="conv+relu, then pooling as its own layer (as before the fusion)")
    a = ap.parse_args()
    cnet.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    x = rng.random((a.batch, 1, 28, 28))
    t = np.eye(10)[rng.integers(0, 10, a.batch)]
    np.random.seed(0)
    net = SimpleConvNet(dtype=np.dtype(a.dtype))
    opt = Adam()
    ps = parts(net, opt, x, t, fused=not a.unfused)
    wall = {p[0]: [] for p in ps}
    cpu = {p[0]: [] for p in ps}
    with threadpool_limits(limits=a.threads, user_api="blas"):
        for r in range(a.rounds + 2):
            for name, fn, _, _ in ps:
                w0, c0 = time.perf_counter(), time.process_time()
                fn()
                w1, c1 = time.perf_counter(), time.process_time()
                if r >= 2:
                    wall[name].append(w1 - w0)
                    cpu[name].append(c1 - c0)
    print("SimpleConvNet step, %s, batch %d, %d thread(s), %s, median of %d; load %s"
          % (a.dtype, a.batch, a.threads, "unfused" if a.unfused else "fused", a.rounds,
             open("/proc/loadavg").read().split()[0]))
    print("| part | wall ms | CPU ms | GFLOP | GFLOPS (wall) | MB moved | GB/s (wall) |")
    print("|---|---|---|---|---|---|---|")
    tw = tc = 0.0
    for name, _, gf, mb in ps:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        tw += w
        tc += c
        print("| %s | %.2f | %.2f | %s | %s | %s | %s |" % (
            name, w * 1e3, c * 1e3, "%.3f" % gf if gf else "",
            "%.1f" % (gf / w) if gf else "", "%.1f" % mb if mb else "",
            "%.1f" % (mb / 1e3 / w) if mb else ""))
    print("| sum | %.2f | %.2f | | | | |" % (tw * 1e3, tc * 1e3))


if __name__ == "__main__":
    main()
