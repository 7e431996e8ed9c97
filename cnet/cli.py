"""The ``cnet`` command: ``cnet info``, ``cnet train``, ``cnet bench``."""
import argparse
import sys


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1, got %d" % value)
    return value


def _cmd_info(args):
    from .config import show_config
    show_config()
    return 0


def _cmd_train(args):
    import cnet
    from .benchmark.data import load_benchmark_mnist
    from .benchmark.recipe import make_net, train_ch04
    if args.threads:
        cnet.set_num_threads(args.threads)
    data, source = load_benchmark_mnist(allow_sample=args.sample_ok)
    (x_train, t_train), (x_test, t_test) = data
    print("data: %s" % source)
    net = make_net("cnet", args.dtype, args.seed)
    res = train_ch04(net, x_train, t_train, x_test, t_test, iters_num=args.iters,
                     batch_size=args.batch_size, learning_rate=args.lr,
                     numerical=args.numerical, seed=args.seed, log=print)
    print("%d iterations in %.1f s; loss %.4f -> %.4f" % (
        res["iters"], res["seconds"], res["loss_first"], res["loss_last"]))
    return 0


def _cmd_bench(args):
    from .benchmark import run_suite
    only = args.only.split(",") if args.only else None
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
    parser = argparse.ArgumentParser(
        prog="cnet",
        description="Fast drop-in replacement for the common/ modules of "
                    "'Deep Learning from Scratch'.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="version, compiler, OpenMP and thread facts")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("train", help="the chapter-4 training recipe (ch04/train_neuralnet.py)")
    p.add_argument("--numerical", action="store_true",
                   help="train with the numerical gradient instead of backprop")
    p.add_argument("--iters", type=_positive_int, default=10000)
    p.add_argument("--batch-size", type=_positive_int, default=100)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="weights' dtype (float64 is the book's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=_positive_int, default=None)
    p.add_argument("--sample-ok", action="store_true",
                   help="fall back to the bundled MNIST sample when the full set cannot be loaded")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("bench", help="benchmarks against the NumPy reference and PyTorch")
    p.add_argument("--out", default="cnet-bench", help="output folder (default: cnet-bench)")
    p.add_argument("--quick", action="store_true",
                   help="fewer iterations; the reference's numerical step extrapolated")
    p.add_argument("--only", default=None,
                   help="comma-separated workloads: numgrad_step, recipe_backprop, "
                        "recipe_numerical, predict_test, functions, scaling")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
