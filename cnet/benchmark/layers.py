"""The dense-layer workloads of ``cnet bench``: the chapter-5 recipe, the
chapter-6 optimizer comparison, MultiLayerNetExtend with batch norm and
dropout under Trainer, and one optimizer update over the chapter-6 network.

Every implementation runs the same loop body in this one process, in short
blocks that take turns (book, cnet, PyTorch, book, cnet, ...), each after a
rest that lets the previous one's thread pools go idle, so a burst of load
elsewhere on a shared machine falls on blocks of every implementation alike;
each row is the median block, per iteration. Whole-recipe times are
that median times the recipe's iterations, plus its accuracy evaluations
timed the same way (stated in each row's note).
"""
import functools

import numpy as np

from .timing import alternate

ROUNDS = 5


def _alternate(impls, block, rounds):
    """{label: (wall, cpu)}: median seconds per iteration of block(state) for
    each (label, state) of impls, the implementations taking turns with a
    rest before each timed block (:func:`cnet.benchmark.timing.alternate`)."""
    return alternate({label: functools.partial(block, state) for label, state in impls},
                     rounds)


def _row(workload, case, impl, seconds, **extra):
    """A result row; seconds is (wall, cpu) or a number (wall only)."""
    if isinstance(seconds, tuple):
        seconds, extra["cpu_seconds"] = seconds
    row = {"workload": workload, "case": case, "impl": impl, "seconds": seconds}
    row.update(extra)
    return row


def _scaled(pair, k, plus=(0.0, 0.0), m=0):
    """k * pair + m * plus, elementwise over (wall, cpu)."""
    return tuple(k * a + m * b for a, b in zip(pair, plus))


# --- the chapter-5 recipe -------------------------------------------------------

class _TorchCh05:
    """The chapter-5 network (Affine, ReLU, Affine, softmax + the book's
    cross-entropy) in PyTorch float32 with autograd, the way a PyTorch user
    writes it; params start from the same NumPy weights."""

    def __init__(self, torch, params):
        self.torch = torch
        self.params = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True)
                       for k, v in params.items()}

    def _loss(self, x, t):
        p, F = self.params, self.torch.nn.functional
        y = F.softmax(F.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"], dim=1)
        return -self.torch.log(y[self.torch.arange(y.shape[0]), t] + 1e-7).mean()

    def step(self, x, t, lr):
        loss = self._loss(x, t)
        grads = self.torch.autograd.grad(loss, list(self.params.values()))
        with self.torch.no_grad():
            for p, g in zip(self.params.values(), grads):
                p -= lr * g
            return float(self._loss(x, t))

    def accuracy(self, x, t):
        with self.torch.no_grad():
            p = self.params
            a = self.torch.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
            return float((a.argmax(dim=1) == t).float().mean())


def ch05_recipe(ctx):
    """ch05/train_neuralnet.py: TwoLayerNet(784, 50, 10) with layers, batch 100,
    lr 0.1, 10,000 iterations, accuracy on all 70,000 images every 600."""
    from cnet import reference
    from cnet.ch05_two_layer_net import TwoLayerNet
    x_train, t_train, x_test, t_test = ctx.x_train, ctx.t_train, ctx.x_test, ctx.t_test
    np.random.seed(0)
    book = reference.Ch05TwoLayerNet(784, 50, 10)
    ours = TwoLayerNet(784, 50, 10)
    for k in book.params:
        ours.params[k][...] = book.params[k]
    rng = np.random.default_rng(0)
    masks = [rng.integers(0, x_train.shape[0], 100) for _ in range(50 if ctx.quick else 200)]

    def numpy_block(net):
        for m in masks:
            x_batch, t_batch = x_train[m], t_train[m]
            grad = net.gradient(x_batch, t_batch)
            for key in ("W1", "b1", "W2", "b2"):
                net.params[key] -= 0.1 * grad[key]
            net.loss(x_batch, t_batch)
        return len(masks)

    impls = [("reference", ("np", book)), ("cnet float64", ("np", ours))]
    if ctx.torch is not None:
        torch = ctx.torch
        tnet = _TorchCh05(torch, book.params)
        tx = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
        tt = torch.from_numpy(t_train.argmax(axis=1).astype(np.int64))
        tx_test = torch.from_numpy(np.ascontiguousarray(x_test, dtype=np.float32))
        tt_test = torch.from_numpy(t_test.argmax(axis=1).astype(np.int64))
        tmasks = [torch.from_numpy(m) for m in masks]
        impls.append(("torch float32", ("torch", tnet)))

    def step_block(state):
        kind, net = state
        if kind == "np":
            return numpy_block(net)
        for m in tmasks:
            net.step(tx[m], tt[m], 0.1)
        return len(tmasks)

    def eval_block(state):
        kind, net = state
        if kind == "np":
            net.accuracy(x_train, t_train)
            net.accuracy(x_test, t_test)
        else:
            net.accuracy(tx, tt)
            net.accuracy(tx_test, tt_test)
        return 1

    ctx.log("  ch05 steps ...")
    step = _alternate(impls, step_block, ROUNDS)
    ctx.log("  ch05 evaluations ...")
    evals = _alternate(impls, eval_block, 3)
    iters, n_eval = 10000, 17  # i % 600 == 0 for i < 10,000
    rows = []
    for label, _ in impls:
        rows.append(_row("ch05_recipe", "one iteration (batch 100)", label, step[label]))
        rows.append(_row("ch05_recipe", "accuracy on 70,000 images", label, evals[label]))
        rows.append(_row("ch05_recipe", "10,000 iterations", label,
                         _scaled(step[label], iters, evals[label], n_eval),
                         note="10,000 x the iteration + 17 x the evaluation"))
    return rows


# --- the chapter-6 optimizer comparison --------------------------------------------

def ch06_optimizer_compare(ctx):
    """ch06/optimizer_compare_mnist.py: four MultiLayerNet(784, [100]*4, 10),
    SGD, Momentum, AdaGrad, Adam; each iteration every network takes a
    gradient, an update and a loss on one batch of 128 (2,000 iterations)."""
    from cnet import multi_layer_net, optimizer, reference
    x_train, t_train = ctx.x_train, ctx.t_train.argmax(axis=1)
    names = ("SGD", "Momentum", "AdaGrad", "Adam")

    def build(net_mod, opt_mod):
        np.random.seed(0)
        nets = {k: net_mod.MultiLayerNet(784, [100, 100, 100, 100], 10) for k in names}
        return nets, {k: getattr(opt_mod, k)() for k in names}

    rng = np.random.default_rng(1)
    masks = [rng.integers(0, x_train.shape[0], 128) for _ in range(10 if ctx.quick else 40)]

    def block(state):
        nets, opts = state
        for m in masks:
            x_batch, t_batch = x_train[m], t_train[m]
            for key in names:
                grads = nets[key].gradient(x_batch, t_batch)
                opts[key].update(nets[key].params, grads)
                nets[key].loss(x_batch, t_batch)
        return len(masks)

    impls = [("reference", build(reference, reference)),
             ("cnet float64", build(multi_layer_net, optimizer))]
    ctx.log("  ch06 optimizer comparison ...")
    step = _alternate(impls, block, ROUNDS)
    rows = []
    for label, _ in impls:
        rows.append(_row("ch06_optimizer_compare", "one iteration (4 networks)", label,
                         step[label]))
        rows.append(_row("ch06_optimizer_compare", "2,000 iterations", label,
                         _scaled(step[label], 2000), note="2,000 x the iteration"))
    return rows


# --- MultiLayerNetExtend with batch norm and dropout under Trainer -------------------

def extend_trainer(ctx):
    """Trainer(MultiLayerNetExtend(784, [100]*5, 10, use_batchnorm=True,
    use_dropout=True, dropout_ration=0.2), optimizer 'adam', batch 100): the
    time of one train_step (its evaluations of 1,000 images included, once
    per 600 steps as the epochs come)."""
    from cnet import multi_layer_net_extend, reference, trainer
    x_train, t_train = ctx.x_train, ctx.t_train.argmax(axis=1)
    x_test, t_test = ctx.x_test, ctx.t_test.argmax(axis=1)

    def build(net_mod, trainer_mod):
        np.random.seed(0)
        net = net_mod.MultiLayerNetExtend(784, [100] * 5, 10, use_batchnorm=True,
                                          use_dropout=True, dropout_ration=0.2)
        return trainer_mod.Trainer(net, x_train, t_train, x_test, t_test, epochs=1,
                                   mini_batch_size=100, optimizer="adam",
                                   optimizer_param={"lr": 0.001},
                                   evaluate_sample_num_per_epoch=1000, verbose=False)

    steps = 20 if ctx.quick else 60

    def block(tr):
        for _ in range(steps):
            tr.train_step()
        return steps

    impls = [("reference", build(reference, reference)),
             ("cnet float64", build(multi_layer_net_extend, trainer))]
    ctx.log("  MultiLayerNetExtend under Trainer ...")
    step = _alternate(impls, block, ROUNDS)
    return [_row("extend_trainer", "one train_step (batch norm, dropout, Adam)", label,
                 step[label]) for label, _ in impls]


# --- one optimizer update over the chapter-6 network's params ------------------------

def optimizer_update(ctx):
    """``update(params, grads)`` over MultiLayerNet(784, [100]*4, 10)'s params
    (118,110 float64 values), per optimizer: the book's NumPy lines, cnet, and
    torch.optim's step (float64 tensors, gradients set)."""
    from cnet import optimizer, reference
    rng = np.random.default_rng(2)
    sizes = [784, 100, 100, 100, 100, 10]
    params0 = {}
    for i in range(1, len(sizes)):
        params0["W%d" % i] = rng.normal(size=(sizes[i - 1], sizes[i])) * 0.05
        params0["b%d" % i] = np.zeros(sizes[i])
    grads = {k: rng.normal(size=v.shape) * 1e-3 for k, v in params0.items()}
    torch = ctx.torch
    torch_opt = {"SGD": lambda p: torch.optim.SGD(p, lr=0.01),
                 "Momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
                 "Nesterov": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9,
                                                       nesterov=True),
                 "AdaGrad": lambda p: torch.optim.Adagrad(p, lr=0.01),
                 "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99),
                 "Adam": lambda p: torch.optim.Adam(p, lr=0.001)}
    reps = 20 if ctx.quick else 50
    rows = []
    for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"):
        impls = []
        for label, mod in (("reference", reference), ("cnet float64", optimizer)):
            impls.append((label, ("np", getattr(mod, name)(),
                                  {k: v.copy() for k, v in params0.items()})))
        if torch is not None:
            tp = [torch.tensor(v, requires_grad=True) for v in params0.values()]
            for p, g in zip(tp, grads.values()):
                p.grad = torch.tensor(g)
            impls.append(("torch.optim float64", ("torch", torch_opt[name](tp), None)))

        def block(state):
            kind, opt, params = state
            if kind == "np":
                for _ in range(reps):
                    opt.update(params, grads)
            else:
                for _ in range(reps):
                    opt.step()
            return reps

        ctx.log("  %s update ..." % name)
        got = _alternate(impls, block, ROUNDS)
        rows += [_row("optimizer_update", name, label, got[label]) for label, _ in impls]
    return rows


WORKLOADS = {
    "ch05_recipe": ch05_recipe,
    "ch06_optimizer_compare": ch06_optimizer_compare,
    "extend_trainer": extend_trainer,
    "optimizer_update": optimizer_update,
}
