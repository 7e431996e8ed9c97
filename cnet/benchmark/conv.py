"""Workloads of ``cnet bench`` for the chapter-7 and chapter-8 convnets.

Each times cnet (float64, float32), the book's NumPy code (``cnet.reference``)
and, when installed, PyTorch on the CPU (float64, float32) on the same
architecture, batch and optimizer (Adam, lr 0.001). Implementations are
called in turn, round after round, in this one process, each after a rest
(:func:`cnet.benchmark.timing.alternate`: the book's NumPy code and torch
leave BLAS or pool threads spinning that would slow the next one), and each
row gives the medians of wall time (``seconds``) and process CPU time
(``cpu_seconds``): a busy machine slows all of them alike. ``conv_scaling``
is plotted in ``conv_scaling.png``.
"""
import time

import numpy as np

from .timing import alternate

BATCH = 100


# --- PyTorch twins of the two networks ----------------------------------------

def _torch_net(torch, kind, dtype):
    nn = torch.nn
    if kind == "simple":
        net = nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                            nn.Flatten(), nn.Linear(4320, 100), nn.ReLU(),
                            nn.Linear(100, 10))
    else:
        layers, c = [], 1
        for i, (fn, pad) in enumerate(zip((16, 16, 32, 32, 64, 64), (1, 1, 1, 2, 1, 1))):
            layers += [nn.Conv2d(c, fn, 3, padding=pad), nn.ReLU()]
            if i % 2 == 1:
                layers.append(nn.MaxPool2d(2, 2))
            c = fn
        layers += [nn.Flatten(), nn.Linear(1024, 50), nn.ReLU(), nn.Dropout(0.5),
                   nn.Linear(50, 10), nn.Dropout(0.5)]
        net = nn.Sequential(*layers)
    return net.to(dtype)


def _torch_step(torch, kind, dtype, x, t):
    net = _torch_net(torch, kind, dtype)
    opt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
    xt = torch.from_numpy(np.ascontiguousarray(x)).to(dtype)
    tt = torch.from_numpy(np.asarray(t).argmax(axis=1))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(xt), tt).backward()
        opt.step()
    return step


# --- the networks of each implementation ---------------------------------------

def _make(kind, impl, dtype):
    if impl == "reference":
        from .. import reference as ref
        return (ref.SimpleConvNet if kind == "simple" else ref.DeepConvNet)(), ref.Adam()
    from ..deep_convnet import DeepConvNet
    from ..optimizer import Adam
    from ..simple_convnet import SimpleConvNet
    net = (SimpleConvNet if kind == "simple" else DeepConvNet)(dtype=dtype)
    return net, Adam()


def _step(net, opt, x, t):
    def step():
        opt.update(net.params, net.gradient(x, t))
    return step


def _impls(ctx, kind, x, t, with_reference=True):
    """name -> one training step (gradient + Adam on x, t)."""
    fns = {}
    if with_reference:
        fns["reference"] = _step(*_make(kind, "reference", np.float64), x, t)
    for d in ("float64", "float32"):
        fns["cnet %s" % d] = _step(*_make(kind, "cnet", np.dtype(d)), x, t)
    if ctx.torch is not None:
        for d in ("float64", "float32"):
            fns["torch %s" % d] = _torch_step(ctx.torch, kind, getattr(ctx.torch, d), x, t)
    return fns


def _rows(workload, case, medians, **extra):
    ref = medians.get("reference")
    rows = []
    for impl, (s, cpu) in medians.items():
        row = {"workload": workload, "case": case, "impl": impl, "seconds": s,
               "cpu_seconds": cpu}
        if ref is not None and impl != "reference":
            row["speedup"] = ref[0] / s
        row.update(extra)
        rows.append(row)
    return rows


def _batch(ctx, n=BATCH):
    x = ctx.x_train[:n].reshape(n, 1, 28, 28)
    t = ctx.t_train[:n]
    return x, (t if t.ndim == 2 else np.eye(10)[t])


def conv_train_step(ctx):
    """One training step (gradient + Adam, batch 100) of SimpleConvNet and
    DeepConvNet, float64 and float32, against the book's code and PyTorch."""
    x, t = _batch(ctx)
    rows = []
    for kind, rounds in (("simple", 5 if ctx.quick else 15), ("deep", 3 if ctx.quick else 7)):
        med = alternate(_impls(ctx, kind, x, t), rounds)
        rows += _rows("conv_train_step", "%s, batch %d" % (kind, BATCH), med)
        ctx.log("  %s: %s" % (kind, ", ".join("%s %.1f ms" % (k, v[0] * 1e3)
                                             for k, v in med.items())))
    return rows


def conv_recipe(ctx):
    """The ch07/train_convnet.py recipe (SimpleConvNet, Adam lr 0.001, batch
    100, 600 steps per epoch, 1,000-image evaluation per epoch, 20 epochs,
    then the accuracy over the 10,000 test images), through cnet's Trainer,
    projected to 20 epochs from its parts, each timed by itself: a Trainer
    step (gradient, Adam and the loss on the updated parameters, as the
    book's Trainer records it), averaged over steps after the first; the
    per-epoch evaluation (2 x 1,000 images), made 20 times; the final
    test-set accuracy, made once. (Timing a few dozen steps that include the
    first epoch's evaluation and scaling them by 12,000 would count that
    evaluation 200 times instead of 20.)"""
    from ..simple_convnet import SimpleConvNet
    from ..trainer import Trainer
    steps = 100 if ctx.quick else 599
    x_train = ctx.x_train.reshape(-1, 1, 28, 28)
    x_test = ctx.x_test.reshape(-1, 1, 28, 28)
    np.random.seed(0)
    net = SimpleConvNet()
    trainer = Trainer(net, x_train, ctx.t_train, x_test, ctx.t_test, epochs=20,
                      mini_batch_size=100, optimizer="Adam", optimizer_param={"lr": 0.001},
                      evaluate_sample_num_per_epoch=1000, verbose=False)
    trainer.train_step()  # the first epoch's evaluation and the first step (warm-up)
    t0 = time.perf_counter()
    for _ in range(steps):  # no epoch starts among these: no evaluation
        trainer.train_step()
    step = (time.perf_counter() - t0) / steps
    n = trainer.evaluate_sample_num_per_epoch
    t0 = time.perf_counter()
    net.accuracy(x_train[:n], ctx.t_train[:n])
    net.accuracy(x_test[:n], ctx.t_test[:n])
    evaluation = time.perf_counter() - t0
    t0 = time.perf_counter()
    acc = net.accuracy(x_test, ctx.t_test)
    final = time.perf_counter() - t0
    total = trainer.max_iter * step + trainer.epochs * evaluation + final
    ctx.log("  step %.1f ms x %d + evaluation %.2f s x %d + final accuracy %.2f s -> "
            "20 epochs %.1f min; test acc after %d steps %.4f"
            % (step * 1e3, trainer.max_iter, evaluation, trainer.epochs, final, total / 60,
               steps + 1, acc))
    return [{"workload": "conv_recipe", "case": "ch07 train_convnet, 20 epochs (projected "
             "from %d timed steps and the evaluations)" % steps, "impl": "cnet float64",
             "seconds": total, "step_seconds": step, "evaluation_seconds": evaluation,
             "final_accuracy_seconds": final, "measured_steps": steps,
             "test_acc_after_measured_steps": acc,
             "note": "step %.1f ms x %d, evaluation %.2f s x %d, final accuracy %.2f s"
                     % (step * 1e3, trainer.max_iter, evaluation, trainer.epochs, final)}]


def deep_epoch_predict(ctx):
    """DeepConvNet: a part of one epoch (600 steps of batch 100) timed and
    projected; predict/accuracy over the 10,000 test images."""
    from ..deep_convnet import DeepConvNet
    from ..optimizer import Adam
    rows = []
    x_train = ctx.x_train.reshape(-1, 1, 28, 28)
    x_test = ctx.x_test.reshape(-1, 1, 28, 28)
    steps = 20 if ctx.quick else 120
    for dtype in (np.float64, np.float32):
        np.random.seed(0)
        net, opt = DeepConvNet(dtype=dtype), Adam()
        t0 = time.perf_counter()
        for _ in range(steps):
            mask = np.random.choice(x_train.shape[0], BATCH)
            opt.update(net.params, net.gradient(x_train[mask], ctx.t_train[mask]))
        per_epoch = (time.perf_counter() - t0) / steps * (x_train.shape[0] // BATCH)
        t0 = time.perf_counter()
        net.accuracy(x_test, ctx.t_test)
        predict = time.perf_counter() - t0
        name = "cnet %s" % np.dtype(dtype).name
        rows.append({"workload": "deep_epoch", "case": "one epoch (projected from %d "
                     "steps); 20 epochs = 20x" % steps, "impl": name, "seconds": per_epoch})
        rows.append({"workload": "deep_predict", "case": "accuracy over 10,000 test images",
                     "impl": name, "seconds": predict})
        ctx.log("  %s: epoch %.1f min (20 epochs %.1f h), predict 10k %.2f s"
                % (name, per_epoch / 60, per_epoch * 20 / 3600, predict))
    if ctx.torch is not None:
        torch = ctx.torch
        for d in ("float64", "float32"):
            net = _torch_net(torch, "deep", getattr(torch, d)).eval()
            t0 = time.perf_counter()
            with torch.no_grad():
                for i in range(0, x_test.shape[0], BATCH):
                    net(torch.from_numpy(x_test[i:i + BATCH]).to(getattr(torch, d)))
            rows.append({"workload": "deep_predict", "case": "accuracy over 10,000 test "
                         "images", "impl": "torch %s" % d,
                         "seconds": time.perf_counter() - t0})
    return rows


def conv_scaling(ctx):
    """Training-step time against batch size and thread count (cnet float64
    and float32, torch float64)."""
    import cnet
    rows = []
    before = cnet.get_num_threads()
    tb = ctx.torch.get_num_threads() if ctx.torch is not None else None
    try:
        for kind in ("simple", "deep"):
            for threads in sorted({1, before}):
                cnet.set_num_threads(threads)
                if ctx.torch is not None:
                    ctx.torch.set_num_threads(threads)
                for n in ((50, 100) if ctx.quick else (25, 50, 100, 200)):
                    x, t = _batch(ctx, n)
                    fns = _impls(ctx, kind, x, t, with_reference=False)
                    fns = {k: v for k, v in fns.items() if k != "torch float32"}
                    med = alternate(fns, 2 if ctx.quick else 5)
                    rows += _rows("conv_scaling", "%s, batch %d, %d thread(s)"
                                  % (kind, n, threads), med, batch=n, threads=threads,
                                  net=kind)
    finally:
        cnet.set_num_threads(before)
        if ctx.torch is not None:
            ctx.torch.set_num_threads(tb)
    return rows


def plot_scaling(rows, out_dir, plt):
    """conv_scaling.png: training-step time per image against batch size, one
    panel per network, a line per implementation and thread count. Returns
    the files written."""
    import os
    sel = [r for r in rows if r["workload"] == "conv_scaling"]
    if not sel:
        return []
    nets = [n for n in ("simple", "deep") if any(r["net"] == n for r in sel)]
    fig, axes = plt.subplots(1, len(nets), figsize=(5.2 * len(nets), 4.2), squeeze=False)
    for ax, net in zip(axes[0], nets):
        series = {}
        for r in sel:
            if r["net"] == net:
                name = "%s, %d thread%s" % (r["impl"], r["threads"], "s" * (r["threads"] > 1))
                series.setdefault(name, []).append((r["batch"], r["seconds"] / r["batch"]))
        for name, pts in sorted(series.items()):
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] * 1e3 for p in pts], marker="o",
                    ls="-" if "1 thread," in name + "," else "--", label=name)
        batches = sorted({r["batch"] for r in sel if r["net"] == net})
        ax.set_xscale("log", base=2)
        ax.set_xticks(batches, [str(n) for n in batches])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel("ms per image (gradient + Adam, median)")
        ax.set_title("%s training step" % ("SimpleConvNet" if net == "simple"
                                           else "DeepConvNet"))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    path = os.path.join(out_dir, "conv_scaling.png")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


WORKLOADS = {
    "conv_train_step": conv_train_step,
    "conv_recipe": conv_recipe,
    "deep_epoch_predict": deep_epoch_predict,
    "conv_scaling": conv_scaling,
}
