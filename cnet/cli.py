"""The ``cnet`` command: ``cnet info`` (more subcommands join as they are built)."""
import argparse
import sys


def _cmd_info(args):
    from .config import show_config
    show_config()
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cnet",
        description="Fast drop-in replacement for the common/ modules of "
                    "'Deep Learning from Scratch'.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="version, compiler, OpenMP and thread facts")
    p.set_defaults(func=_cmd_info)
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
