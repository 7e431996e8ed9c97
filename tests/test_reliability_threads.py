"""Thread stress: several networks used from several Python threads while
other threads replace, resize and update their parameters in place and change
the thread count. It runs in this process, so that tools/sanitize.sh (ASan
and UBSan) sees every access; CNET_STRESS_SECONDS sets its length (1 s by
default here, longer in the sanitizer run).

What is promised (RELIABILITY.md): no crash and no sanitizer report, whatever
the interleaving; a call that meets parameters whose shapes do not agree
(another thread is half-way through resizing) raises ValueError; a call that
races with an in-place update reads some mix of old and new values (as NumPy
would), but never freed memory.
"""
import os
import threading
import time

import numpy as np

import cnet
from cnet.optimizer import SGD
from cnet.two_layer_net import TwoLayerNet

SECONDS = float(os.environ.get("CNET_STRESS_SECONDS", "1"))


def _batch(rng, B, I, dtype):
    x = rng.random((B, I)).astype(dtype)
    x[x < 0.7] = 0
    return x


def test_thread_stress():
    nets = [TwoLayerNet(60, 12, 5), TwoLayerNet(30, 7, 3, dtype=np.float32),
            TwoLayerNet(17, 5, 4)]
    stop = time.monotonic() + SECONDS
    errors = []
    calls = []
    lock = threading.Lock()

    def guarded(fn):
        def run(*args):
            try:
                fn(*args)
            except BaseException as e:  # reported below, never swallowed
                with lock:
                    errors.append(repr(e))
        return run

    @guarded
    def caller(k, seed):
        rng = np.random.default_rng(seed)
        net = nets[k % len(nets)]
        n = 0
        while time.monotonic() < stop:
            I = net.params["W1"].shape[0]
            O = net.params["W2"].shape[1]
            x = _batch(rng, int(rng.integers(1, 40)), I, np.float32)
            t = rng.integers(0, O, x.shape[0])
            T = np.eye(O)[t]
            try:
                net.predict(x)
                net.loss(x, T)
                net.accuracy(x, T)
                net.gradient(x, T)
                net.gradient(x.astype(np.float64), t)
                if n % 20 == 0:
                    net.numerical_gradient(x[:2], t[:2])
            except ValueError as e:
                # a resize half-way done, or the batch made before it
                msg = str(e)
                if not any(w in msg for w in ("agree", "columns", "W1", "t must",
                                              "class indices", "shape")):
                    raise
            n += 1
        with lock:
            calls.append(n)

    @guarded
    def replacer(seed):
        rng = np.random.default_rng(seed)
        while time.monotonic() < stop:
            net = nets[int(rng.integers(len(nets)))]
            p = net.params
            if rng.random() < 0.5:
                for key in ("W1", "b1", "W2", "b2"):  # new arrays, old ones freed
                    p[key] = p[key] - 0.0
            else:  # resized, one key at a time
                I = p["W1"].shape[0]
                H = int(rng.integers(1, 16))
                O = p["W2"].shape[1]
                dt = p["W1"].dtype
                p["W1"] = rng.normal(0, 0.1, (I, H)).astype(dt)
                p["b1"] = np.zeros(H, dt)
                p["W2"] = rng.normal(0, 0.1, (H, O)).astype(dt)
                p["b2"] = np.zeros(O, dt)

    @guarded
    def updater(seed):
        rng = np.random.default_rng(seed)
        sgd = SGD(lr=0.01)
        while time.monotonic() < stop:
            net = nets[int(rng.integers(len(nets)))]
            grads = {k: np.ones_like(v) * 1e-3 for k, v in list(net.params.items())}
            try:
                sgd.update(net.params, grads)
            except ValueError:
                pass  # a resize between the two lines above
            cnet.set_num_threads(int(rng.integers(1, 4)))

    threads = ([threading.Thread(target=caller, args=(k, k)) for k in range(4)]
               + [threading.Thread(target=replacer, args=(10,)),
                  threading.Thread(target=updater, args=(11,))])
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:5]
    assert len(calls) == 4 and sum(calls) > 0
