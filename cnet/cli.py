"""The ``cnet`` command: ``cnet info``, ``cnet train``, ``cnet bench``.

A user's mistake (a bad argument, no data, a missing optional package) ends
with one line on standard error and exit status 2; a traceback means a bug.
"""
import argparse
import math
import os
import sys

from ._version import DISTRIBUTION, __version__

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's status for a process stopped by SIGINT


class UsageError(Exception):
    """A mistake in what the user asked for; its message is the one line shown."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (usage is in --help)."""

    def error(self, message):
        self.exit(EXIT_USAGE, "%s: error: %s (see %s --help)\n" % (self.prog, message, self.prog))


# --- argument types ------------------------------------------------------------

def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer, got %r" % text) from None


def _positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1, got %d" % value)
    return value


def _seed(text):
    from .training import check_seed
    try:
        return check_seed(_int(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("seed ", "", 1)) from None


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number, got %r" % text) from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError("must be a finite number > 0, got %s" % text)
    return value


def _output_file(option):
    def check(text):
        folder = os.path.dirname(os.path.abspath(text))
        if not os.path.isdir(folder):
            raise argparse.ArgumentTypeError("the folder %s does not exist" % folder)
        if os.path.isdir(text):
            raise argparse.ArgumentTypeError("%s is a folder; give a file name" % text)
        return text
    check.__name__ = option
    return check


# --- cnet info -----------------------------------------------------------------

def _cmd_info(args):
    from .config import show_config
    print("distribution : %s %s (pip install %s; import cnet)"
          % (DISTRIBUTION, __version__, DISTRIBUTION))
    show_config()
    return 0


# --- cnet train ----------------------------------------------------------------

_SAMPLE_NOTE = "the MNIST sample bundled with cnet"


def _describe(data):
    (x_train, _), (x_test, _) = data
    return "%s training / %s test images" % (format(x_train.shape[0], ","),
                                              format(x_test.shape[0], ","))


def _load_training_data(choice):
    """``(data, one-line description)`` for --dataset; UsageError when it cannot be had."""
    from .dataset import DatasetDownloadError, DatasetNotCachedError
    from .dataset.mnist import load_mnist
    kwargs = dict(normalize=True, one_hot_label=True)
    if choice == "sample":
        data = load_mnist(sample=True, **kwargs)
        return data, "data: %s (%s)" % (_SAMPLE_NOTE, _describe(data))
    if choice == "fashion":
        from .dataset.fashion_mnist import load_fashion_mnist
        try:
            data = load_fashion_mnist(**kwargs)
        except (DatasetDownloadError, DatasetNotCachedError) as exc:
            raise UsageError(
                "Fashion-MNIST is not cached and cannot be downloaded (%s); set "
                "CNET_FASHION_MNIST_MIRROR to a folder holding its four .gz files"
                % _first_failure(exc)) from None
        return data, "data: Fashion-MNIST (%s)" % _describe(data)
    try:
        data = load_mnist(**kwargs)
        return data, "data: MNIST (%s)" % _describe(data)
    except (DatasetDownloadError, DatasetNotCachedError) as exc:
        if choice == "mnist":
            raise UsageError(
                "MNIST is not cached and cannot be downloaded (%s); set CNET_MNIST_MIRROR "
                "to a folder holding its four .gz files, or use --dataset sample"
                % _first_failure(exc)) from None
        data = load_mnist(sample=True, **kwargs)
        return data, ("data: %s (%s): the full MNIST is not cached and cannot be "
                      "downloaded (%s); set CNET_MNIST_MIRROR to use it"
                      % (_SAMPLE_NOTE, _describe(data), _first_failure(exc)))


def _first_failure(exc):
    attempts = getattr(exc, "attempts", None)
    if attempts:
        source, filename, reason = attempts[-1]
        return "%s: %s" % (source, reason)
    return str(exc).splitlines()[0]


def _check_plot_extra():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install \"%s[plot]\"" % DISTRIBUTION) \
            from None


def _progress_bar(total, enabled):
    """A tqdm bar on a terminal (rate and time left), None otherwise."""
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, unit="it", file=sys.stderr, dynamic_ncols=True,
                mininterval=0.2, leave=False)


def _cmd_train(args):
    import cnet
    from . import training
    if args.plot:
        _check_plot_extra()
    if args.threads:
        try:
            cnet.set_num_threads(args.threads)
        except (ValueError, OverflowError) as exc:
            raise UsageError("--threads: %s" % exc) from None
    data, source = _load_training_data(args.dataset)
    (x_train, t_train), (x_test, t_test) = data
    print(source, flush=True)
    try:
        training.check_hyperparameters(args.iters, args.batch_size, args.lr, x_train.shape[0])
    except ValueError as exc:
        raise UsageError("--" + str(exc).replace("_", "-", 1)) from None
    try:
        network = training.build_network(args.net, hidden=args.hidden,
                                         input_size=x_train.shape[1],
                                         output_size=t_train.shape[1],
                                         dtype=args.dtype, seed=args.seed)
    except MemoryError:
        raise UsageError("--hidden %d: the network does not fit in memory" % args.hidden) \
            from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print("net: %s, %d hidden units, %s, %s gradient, %d iterations of %d images, lr %g, "
          "seed %d, %d thread%s" % (args.net, args.hidden, args.dtype, args.grad, args.iters,
                                    args.batch_size, args.lr, args.seed,
                                    cnet.get_num_threads(),
                                    "" if cnet.get_num_threads() == 1 else "s"), flush=True)

    from .dataset._progress import is_terminal
    bar = _progress_bar(args.iters, args.progress and is_terminal(sys.stderr))
    if bar is not None:
        def log(line):
            bar.write(line, file=sys.stdout)

        def on_step(i, loss):
            bar.update(1)
            if i % 50 == 0:
                bar.set_postfix(loss="%.4f" % loss, refresh=False)
    else:
        def log(line):
            print(line, flush=True)
        on_step = None
    try:
        run = training.train(network, x_train, t_train, x_test, t_test, iters=args.iters,
                             batch_size=args.batch_size, lr=args.lr, grad=args.grad,
                             seed=args.seed, log=log, on_step=on_step)
    finally:
        if bar is not None:
            bar.close()

    train_acc = network.accuracy(x_train, t_train)
    test_acc = network.accuracy(x_test, t_test)
    if run.interrupted:
        print("interrupted (Ctrl-C) after %d of %d iterations" % (run.iters_done, run.iters))
    print("train acc %.4f, test acc %.4f; %d iterations in %.2f s (%.0f it/s); "
          "loss %.4f -> %.4f" % (train_acc, test_acc, run.iters_done, run.seconds,
                                 run.iters_per_second, run.train_loss[0],
                                 run.train_loss[-1]), flush=True)
    if args.save:
        training.save_params(network, args.save, net=args.net)
        print("saved the parameters to %s (cnet.training.load_params(%r) loads them)"
              % (args.save, args.save))
    if args.plot:
        from .plot import plot_training
        plot_training(run, args.plot, title="%s, %s gradient" % (args.net, args.grad))
        print("wrote %s" % args.plot)
    return EXIT_INTERRUPTED if run.interrupted else 0


# --- cnet bench ----------------------------------------------------------------

def _cmd_bench(args):
    from .benchmark import WORKLOADS, run_suite
    only = None
    if args.only:
        only = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in only if name not in WORKLOADS]
        if unknown or not only:
            raise UsageError("--only: unknown workload %s; choose from %s"
                             % (", ".join(repr(n) for n in unknown) or "(none given)",
                                ", ".join(WORKLOADS)))
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError("--out: %s exists and is not a folder" % args.out)
    command = "cnet bench" + (" --quick" if args.quick else "") + \
        (" --only " + args.only if args.only else "") + \
        (" --no-torch" if args.no_torch else "") + " --out " + args.out
    res = run_suite(args.out, quick=args.quick, only=only, use_torch=not args.no_torch,
                    command=command)
    from .benchmark.report import TARGETS, _fmt_value
    for label, key, _, _, unit in TARGETS:
        if res["rows"] and key in res.get("headline", {}):
            print("%-58s %s" % (label, _fmt_value(res["headline"][key], unit)))
    print("wrote %s" % args.out)
    return 0


def build_parser():
    from .training import GRADS, NETWORKS, available_networks
    parser = _Parser(
        prog="cnet",
        description="Fast drop-in replacement for the common/ modules of "
                    "'Deep Learning from Scratch' (%s %s)." % (DISTRIBUTION, __version__))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser("info", help="version, compiler, OpenMP and thread facts")
    p.set_defaults(func=_cmd_info)

    nets = available_networks()
    p = sub.add_parser(
        "train", help="train a network of the book on MNIST (ch04/train_neuralnet.py)",
        description="The book's training loop (ch04/train_neuralnet.py) on cnet's networks. "
                    "Prints the book's per-epoch 'train acc, test acc' lines and a summary. "
                    "Ctrl-C stops after the current step, prints the summary and still "
                    "writes --plot and --save.")
    p.add_argument("--net", choices=nets, default="ch04",
                   help="; ".join("%s: %s" % (n, NETWORKS[n][2]) for n in nets)
                   + " (default: ch04)")
    p.add_argument("--grad", choices=GRADS, default="backprop",
                   help="backprop (default) or the numerical gradient of chapter 4")
    p.add_argument("--dataset", choices=("mnist", "fashion", "sample"), default=None,
                   help="default: MNIST, or the sample bundled with cnet when MNIST is not "
                        "cached and cannot be downloaded (set CNET_MNIST_MIRROR to a folder "
                        "holding its files to work offline)")
    p.add_argument("--iters", type=_positive_int, default=10000, help="default: 10000")
    p.add_argument("--batch-size", type=_positive_int, default=100, help="default: 100")
    p.add_argument("--lr", type=_learning_rate, default=0.1,
                   help="learning rate, finite and > 0 (default: 0.1)")
    p.add_argument("--hidden", type=_positive_int, default=50,
                   help="hidden units (default: 50)")
    p.add_argument("--seed", type=_seed, default=0,
                   help="np.random.seed for the weights and batches, 0 to 2**32-1 "
                        "(default: 0)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="parameters' dtype (default: float64, the book's)")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="OpenMP threads (default: OMP_NUM_THREADS or all cores)")
    p.add_argument("--plot", type=_output_file("--plot"), default=None, metavar="PATH",
                   help="write the accuracy and loss curves as a PNG (needs matplotlib: "
                        "pip install \"%s[plot]\")" % DISTRIBUTION)
    p.add_argument("--save", type=_output_file("--save"), default=None, metavar="PATH",
                   help="write the trained parameters as .npz "
                        "(cnet.training.load_params loads them)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar on a terminal")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("bench", help="benchmarks against the NumPy reference and PyTorch")
    p.add_argument("--out", default="cnet-bench", help="output folder (default: cnet-bench)")
    p.add_argument("--quick", action="store_true",
                   help="fewer iterations; the reference's numerical step extrapolated")
    from .benchmark.suite import WORKLOADS
    p.add_argument("--only", default=None,
                   help="comma-separated workloads: " + ", ".join(WORKLOADS))
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as exc:
        print("cnet %s: error: %s" % (args.command, exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cnet %s: interrupted" % args.command, file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
