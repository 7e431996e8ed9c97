"""Turn benchmark rows into RESULTS.md, results.json and PNG plots."""
import json
import os

from .timing import fmt_seconds

# (label, how to read it off the rows, target, least acceptable, "x" ratio or "s" seconds)
TARGETS = (
    ("numerical-gradient step vs reference", "numgrad_ratio", 3000.0, 1000.0, "x"),
    ("ch04 recipe with numerical gradient, wall time", "recipe_numerical_s", 120.0, 300.0, "s"),
    ("ch04 backprop recipe vs reference", "recipe_ratio_ref", 4.0, 4.0, "x"),
    ("ch04 backprop recipe (cnet float64) vs torch float32", "recipe_ratio_torch", 1.5, 1.5, "x"),
    ("predict over the test set vs reference", "predict_ratio", 2.0, 2.0, "x"),
    ("peak memory of the backprop recipe, reference / cnet", "memory_ratio", 2.0, 2.0, "x"),
    ("numerical-gradient step, 2 threads vs 1", "thread_ratio", 1.6, 1.6, "x"),
    ("cnet.functions: the slowest kernel's torch / cnet (2 threads)", "functions_min_torch",
     1.0, 1.0, "x"),
    ("ch05 recipe vs reference", "ch05_ratio_ref", 4.0, 4.0, "x"),
    ("ch05 recipe (cnet float64) vs torch float32", "ch05_ratio_torch", 1.5, 1.5, "x"),
    ("ch06 optimizer comparison vs reference", "ch06_ratio_ref", 4.0, 4.0, "x"),
    ("MultiLayerNetExtend under Trainer vs reference", "extend_ratio_ref", 3.0, 3.0, "x"),
    ("optimizer update: the slowest of six vs reference", "optimizer_min_ref", 1.0, 1.0, "x"),
    ("optimizer update: the slowest of six vs torch.optim", "optimizer_min_torch", 1.0, 1.0, "x"),
    ("SimpleConvNet train step (float64) vs reference", "simple_ratio_ref", 8.0, 8.0, "x"),
    ("SimpleConvNet train step (float64) vs torch float64", "simple_ratio_torch64", 1.0, 1.0, "x"),
    ("SimpleConvNet train step (float64) vs torch float32 (goal)", "simple_ratio_torch32",
     1.0, 1.0, "x"),
    ("DeepConvNet train step (float64) vs reference", "deep_ratio_ref", 10.0, 10.0, "x"),
    ("DeepConvNet train step (float64) vs torch float64", "deep_ratio_torch64", 1.0, 1.0, "x"),
    ("DeepConvNet train step (float64) vs torch float32 (goal)", "deep_ratio_torch32",
     1.0, 1.0, "x"),
    ("ch07 train_convnet recipe (20 epochs), wall time", "conv_recipe_s", 300.0, 300.0, "s"),
)


def _find(rows, workload, impl, case=None):
    for r in rows:
        if r["workload"] == workload and r["impl"] == impl and (case is None or r["case"] == case):
            return r
    return None


def _min_ratio(rows, workload, slow_impl, fast_impl):
    """The smallest slow_impl / fast_impl time ratio over the workload's cases
    that have both (None if none has)."""
    ratios = []
    for r in rows:
        if r["workload"] == workload and r["impl"] == fast_impl and r["seconds"]:
            other = _find(rows, workload, slow_impl, r["case"])
            if other is not None:
                ratios.append(other["seconds"] / r["seconds"])
    return min(ratios) if ratios else None


def _case_prefix(rows, workload, impl, prefix):
    """The first row of workload and impl whose case starts with prefix."""
    return next((r for r in rows if r["workload"] == workload and r["impl"] == impl
                 and r["case"].startswith(prefix)), None)


def headline(rows):
    """The figures the targets are stated in, from the rows (None where not run)."""
    def ratio(a, b, key="seconds"):
        return None if a is None or b is None or not b[key] else a[key] / b[key]

    out = {}
    out["numgrad_ratio"] = ratio(_find(rows, "numgrad_step", "reference"),
                                 _find(rows, "numgrad_step", "cnet 2 threads"))
    r = _find(rows, "recipe_numerical", "cnet float64")
    out["recipe_numerical_s"] = None if r is None else r["seconds"] * 10000 / int(r["case"].split()[0])
    out["recipe_ratio_ref"] = ratio(_find(rows, "recipe_backprop", "reference"),
                                    _find(rows, "recipe_backprop", "cnet float64"))
    out["recipe_ratio_torch"] = ratio(_find(rows, "recipe_backprop", "torch float32"),
                                      _find(rows, "recipe_backprop", "cnet float64"))
    out["predict_ratio"] = ratio(_find(rows, "predict_test", "reference", "predict"),
                                 _find(rows, "predict_test", "cnet float64", "predict"))
    out["memory_ratio"] = ratio(_find(rows, "recipe_backprop", "reference"),
                                _find(rows, "recipe_backprop", "cnet float64"), "peak_rss_mb")
    out["thread_ratio"] = ratio(_find(rows, "numgrad_step", "cnet 1 thread"),
                                _find(rows, "numgrad_step", "cnet 2 threads"))
    out["functions_min_torch"] = _min_ratio(rows, "functions", "torch", "cnet")
    for key, workload, case, other in (
            ("ch05_ratio_ref", "ch05_recipe", "10,000 iterations", "reference"),
            ("ch05_ratio_torch", "ch05_recipe", "10,000 iterations", "torch float32"),
            ("ch06_ratio_ref", "ch06_optimizer_compare", "2,000 iterations", "reference"),
            ("extend_ratio_ref", "extend_trainer", "one train_step", "reference"),
            ("simple_ratio_ref", "conv_train_step", "simple", "reference"),
            ("simple_ratio_torch64", "conv_train_step", "simple", "torch float64"),
            ("simple_ratio_torch32", "conv_train_step", "simple", "torch float32"),
            ("deep_ratio_ref", "conv_train_step", "deep", "reference"),
            ("deep_ratio_torch64", "conv_train_step", "deep", "torch float64"),
            ("deep_ratio_torch32", "conv_train_step", "deep", "torch float32")):
        out[key] = ratio(_case_prefix(rows, workload, other, case),
                         _case_prefix(rows, workload, "cnet float64", case))
    out["optimizer_min_ref"] = _min_ratio(rows, "optimizer_update", "reference", "cnet float64")
    out["optimizer_min_torch"] = _min_ratio(rows, "optimizer_update", "torch.optim float64",
                                            "cnet float64")
    r = _case_prefix(rows, "conv_recipe", "cnet float64", "")
    out["conv_recipe_s"] = None if r is None else r["seconds"]
    return out


def _fmt_value(v, unit):
    if v is None:
        return "not run"
    return fmt_seconds(v) if unit == "s" else "%.1fx" % v if v < 100 else "%.0fx" % v


def _status(v, target, least, unit):
    if v is None:
        return "-"
    better = (lambda a, b: a <= b) if unit == "s" else (lambda a, b: a >= b)
    if better(v, target):
        return "met"
    return "below target, above the least" if better(v, least) else "NOT met"


def to_markdown(result):
    rows = result["rows"]
    m = result["machine"]
    lines = ["# cnet benchmark results", ""]
    lines.append("Command: `%s`  " % result["command"])
    lines.append("Date: %s; data: %s%s  " % (m["date"], result["data"],
                                               "; quick mode (fewer iterations)" if result["quick"] else ""))
    lines.append("Machine: %s, %s CPUs, %s; cnet %s (%s, OpenMP %s, %s threads), NumPy %s, "
                 "PyTorch %s." % (m["cpu"], m["cpu_count"], m["platform"], m["cnet"], m["compiler"],
                                  "on" if m["openmp"] else "off", m["num_threads"], m["numpy"],
                                  m["torch"] or "not installed"))
    lines.append("Times are medians of repeated runs (the repeat count is in results.json); "
                 "ratios are the other implementation's time divided by cnet's.")
    lines += ["", "## Targets", "", "| figure | measured | target | status |", "|---|---|---|---|"]
    head = headline(rows)
    for label, key, target, least, unit in TARGETS:
        v = head.get(key)
        t = ("<= %s" % fmt_seconds(target)) if unit == "s" else (">= %gx" % target)
        lines.append("| %s | %s | %s | %s |" % (label, _fmt_value(v, unit), t,
                                                 _status(v, target, least, unit)))
    seen = []
    for r in rows:
        if r["workload"] not in seen:
            seen.append(r["workload"])
    for w in seen:
        lines += ["", "## %s" % w, "", "| case | implementation | time | reference / this | notes |",
                  "|---|---|---|---|---|"]
        for r in (r for r in rows if r["workload"] == w):
            ref = _find(rows, w, "reference", r["case"])
            ratio = "" if ref is None or not r["seconds"] else "%.1fx" % (ref["seconds"] / r["seconds"])
            notes = []
            if r.get("test_acc") is not None:
                notes.append("test acc %.4f" % r["test_acc"])
            if r.get("peak_rss_mb") is not None:
                notes.append("peak RSS %.0f MB" % r["peak_rss_mb"])
            if r.get("note"):
                notes.append(r["note"])
            lines.append("| %s | %s | %s | %s | %s |" % (r["case"], r["impl"], fmt_seconds(r["seconds"]),
                                                      ratio, "; ".join(notes)))
    return "\n".join(lines) + "\n"


def _plot(result, out_dir):
    """PNG plots of the scaling workloads; returns the files written."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    rows = result["rows"]
    written = []
    for w, key, xlabel in (("scaling_hidden", "hidden", "hidden size H"),
                           ("scaling_batch", "batch", "batch size B")):
        sel = [r for r in rows if r["workload"] == w]
        if not sel:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        series = {}
        for r in sel:
            name = "%s: %s" % (r["case"].split()[0], r["impl"])
            series.setdefault(name, []).append((r[key], r["seconds"]))
        for name, pts in sorted(series.items()):
            pts.sort()
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds per call (median)")
        ax.set_title("TwoLayerNet(784, H, 10): cost vs %s" % xlabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        path = os.path.join(out_dir, "%s.png" % w)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    sel = [r for r in rows if r["workload"] == "scaling_threads"]
    if sel:
        cases = []
        for r in sel:
            if r["case"] not in cases:
                cases.append(r["case"])
        speedup = []
        for c in cases:
            one = _find(rows, "scaling_threads", "cnet 1 thread", c)
            two = _find(rows, "scaling_threads", "cnet 2 threads", c)
            speedup.append(one["seconds"] / two["seconds"] if one and two else 0.0)
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.barh(cases, speedup)
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_xlabel("speed-up of 2 threads over 1")
        ax.set_title("cnet: OpenMP scaling on %s CPUs" % result["machine"]["cpu_count"])
        path = os.path.join(out_dir, "scaling_threads.png")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    from .conv import plot_scaling as _plot_conv_scaling
    written += _plot_conv_scaling(rows, out_dir, plt)
    return written


def write_report(result, out_dir):
    """Write results.json, RESULTS.md and the plots into out_dir."""
    result = dict(result, headline=headline(result["rows"]))
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(out_dir, "RESULTS.md"), "w") as f:
        f.write(to_markdown(result))
    return _plot(result, out_dir)
