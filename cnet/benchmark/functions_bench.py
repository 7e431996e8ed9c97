"""The ``functions`` workload: cnet.functions against PyTorch and the book's
NumPy code on 10^6-element inputs, each beside a plain copy of its bytes.

The kernels are limited by memory traffic: for each one the bytes it must
move (its inputs read, its output written) are timed once more as a plain
copy (half of them read, half written: the same traffic), and both rates
are reported. cnet, torch, the copy and the reference are called in
alternating rounds in this one process, so a burst of load on a shared
machine hits them all; medians over the rounds.
"""
import numpy as np

from .timing import alternate

NAMES = ("sigmoid", "sigmoid_grad", "relu", "relu_grad", "softmax",
         "cross_entropy_error", "softmax_loss", "sum_squared_error")


def cases(dtype, rng):
    """{name: (label, args)}: 10^6 entries per array (softmax on 1000 rows of
    1000, the losses on 10^5 rows of 10 classes with index labels)."""
    n = 10**6
    x = rng.standard_normal(n).astype(dtype)
    a2 = rng.standard_normal((10**5, 10)).astype(dtype)
    p = np.exp(a2 - a2.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    t = rng.integers(0, 10, 10**5)
    x2 = rng.standard_normal((1000, 1000)).astype(dtype)
    return {
        "sigmoid": ("(10^6,)", (x,)), "sigmoid_grad": ("(10^6,)", (x,)),
        "relu": ("(10^6,)", (x,)), "relu_grad": ("(10^6,)", (x,)),
        "softmax": ("(1000, 1000)", (x2,)),
        "cross_entropy_error": ("(10^5, 10), index t", (p, t)),
        "softmax_loss": ("(10^5, 10), index t", (a2, t)),
        "sum_squared_error": ("(10^6,) twice", (x, x[::-1].copy())),
    }


def torch_twins(torch):
    """The book's formulas in PyTorch, as a PyTorch user would write them."""
    def ce(y, t):
        return -torch.sum(torch.log(y[torch.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]
    return {
        "sigmoid": torch.sigmoid,
        "sigmoid_grad": lambda x: (1.0 - torch.sigmoid(x)) * torch.sigmoid(x),
        "relu": torch.relu,
        "relu_grad": lambda x: (x >= 0).to(x.dtype),
        "softmax": lambda x: torch.softmax(x, dim=-1),
        "cross_entropy_error": ce,
        "softmax_loss": lambda x, t: ce(torch.softmax(x, dim=-1), t),
        "sum_squared_error": lambda y, t: 0.5 * torch.sum((y - t) ** 2),
    }


def traffic_bytes(name, args):
    """Bytes a kernel must move: its array inputs read, its array output
    written (the losses return a scalar; cross_entropy_error reads one entry
    per row of y, counted as the row's 64-byte cache line at most)."""
    if name == "cross_entropy_error":
        y, t = args
        return y.shape[0] * min(64, y.shape[1] * y.itemsize) + t.nbytes
    read = sum(a.nbytes for a in args)
    return read if name in ("softmax_loss", "sum_squared_error") else 2 * read


def _copy_fn(nbytes, torch):
    """A plain copy moving nbytes in all (nbytes / 2 read, nbytes / 2 written),
    by torch (on its threads) when installed, else by NumPy."""
    src = np.ones(max(1, nbytes // 16))
    dst = np.empty_like(src)
    if torch is not None:
        ts, td = torch.from_numpy(src), torch.from_numpy(dst)
        return lambda: td.copy_(ts)
    return lambda: np.copyto(dst, src)


# PyTorch's pool spins for about 10 ms after a call (OpenBLAS, 0.1 s, is not
# used here): the rest before each timed call.
SETTLE_SECONDS = 0.015


def run(torch=None, dtypes=("float64", "float32"), names=NAMES, rounds=21,
        reference=True, seed=0):
    """Rows ``{"workload": "functions", "case", "impl", "seconds", "gbps",
    "copy_gbps", "bytes", "rounds"}`` for cnet, torch (when given), the copy
    and, with reference, cnet.reference. Results are checked against the
    reference before timing."""
    from cnet import functions as F
    from cnet import reference as R
    twins = torch_twins(torch) if torch is not None else {}
    rows = []
    for dtype in dtypes:
        all_cases = cases(dtype, np.random.default_rng(seed))
        for name in names:
            label, args = all_cases[name]
            np.testing.assert_allclose(getattr(F, name)(*args), getattr(R, name)(*args),
                                       rtol=1e-5 if dtype == "float32" else 1e-11)
            nbytes = traffic_bytes(name, args)
            impls = [("cnet", lambda: getattr(F, name)(*args))]
            if name in twins:
                targs = tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in args)
                impls.append(("torch", lambda: twins[name](*targs)))
            impls.append(("copy", _copy_fn(nbytes, torch)))
            if reference:
                impls.append(("reference", lambda: getattr(R, name)(*args)))
            times = alternate(dict(impls), rounds, settle=SETTLE_SECONDS)
            secs = {impl: wall for impl, (wall, _) in times.items()}
            copy_s = secs["copy"]
            for impl, s in secs.items():
                rows.append({"workload": "functions", "case": "%s %s %s" % (name, dtype, label),
                             "impl": impl, "seconds": s, "bytes": nbytes,
                             "gbps": nbytes / s / 1e9, "copy_gbps": nbytes / copy_s / 1e9,
                             "rounds": rounds,
                             "note": "%.1f GB/s (copy of the same bytes %.1f GB/s)"
                                     % (nbytes / s / 1e9, nbytes / copy_s / 1e9)})
    return rows


def table(rows):
    """The rows as a Markdown table: cnet vs torch, medians, rates."""
    out = ["| kernel | dtype | cnet | torch | torch / cnet | cnet GB/s | torch GB/s | copy GB/s | reference / cnet |",
           "|---|---|---|---|---|---|---|---|---|"]
    by_case = {}
    for r in rows:
        by_case.setdefault(r["case"], {})[r["impl"]] = r
    for case, d in by_case.items():
        name, dtype = case.split()[:2]
        c, t, cp, ref = d["cnet"], d.get("torch"), d["copy"], d.get("reference")
        out.append("| %s | %s | %.0f us | %s | %s | %.1f | %s | %.1f | %s |" % (
            name, dtype, c["seconds"] * 1e6,
            "%.0f us" % (t["seconds"] * 1e6) if t else "-",
            "%.2f" % (t["seconds"] / c["seconds"]) if t else "-",
            c["gbps"], "%.1f" % t["gbps"] if t else "-", cp["gbps"],
            "%.1f" % (ref["seconds"] / c["seconds"]) if ref else "-"))
    return "\n".join(out)
