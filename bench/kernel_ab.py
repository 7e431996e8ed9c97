"""Time two versions of cnet's TwoLayerNet kernels against each other in one process.

Usage: python bench/kernel_ab.py CSRC_A CSRC_B [--threads 2] [--calls 2000]
       [--mode recipe|accuracy|predict|numgrad] [--repeat 3] [--workdir DIR]

CSRC_A and CSRC_B are two copies of the ``csrc`` folder (say, one from
``git worktree add`` at an older commit, or one with a constant changed). Each
is compiled with gcc and OpenMP, its public names prefixed (kernel_ab/variant.c),
with the other operations' kernels the two call (SHARED: affine.c, its names
prefixed likewise) into one program (kernel_ab/kernel_ab.c) that calls the two
versions in turn on the same inputs and prints the median time of each and
their ratio B / A.

On a shared machine the load changes from second to second; runs of two builds
in separate processes, one after the other, then differ by more than the change
being measured. Calls that alternate within one process meet the same load.

Modes: ``recipe`` is the book's loop (a new batch of 100 MNIST images copied
out of x_train before each call, gradient, an update of W1 on the calling
thread, loss); ``accuracy`` counts the correct rows of all 60,000 training
images; ``predict`` forms the output rows of the first 10,000; ``numgrad`` is
the chapter-4 numerical gradient (csrc/netgrad.c) of a new batch of 100
images (for a netgrad.c that takes its caller's scratch, kernel_ab/variant_netgrad.c
counts the non-zeros and allocates it per call, as cnet._netgrad does). Needs
gcc with OpenMP and nm (Linux); the data come from ``load_mnist``, so set
CNET_MNIST_MIRROR when offline.

``--workdir DIR`` keeps the data and the program in DIR (else a temporary
folder), so that the program can be run again, e.g. under
``valgrind --tool=callgrind`` for instruction counts of A's and B's functions:
``OMP_NUM_THREADS=1 valgrind --tool=callgrind DIR/kernel_ab DIR 1 3 numgrad``.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_ab")
# C files of other operations the kernels call, compiled beside them.
SHARED = ("affine.c",)
FLAGS = ["-O3", "-fno-math-errno", "-fopenmp", "-Wno-unused-function"]


def write_data(folder):
    """x_train (float32), its class indices (int64) and the book's initial weights."""
    from cnet import reference
    from cnet.dataset.mnist import load_mnist
    (x_train, t_train), _ = load_mnist(normalize=True)
    np.ascontiguousarray(x_train, dtype=np.float32).tofile(os.path.join(folder, "x_train.f32"))
    t_train.astype(np.int64).tofile(os.path.join(folder, "t_train.i64"))
    np.random.seed(0)
    net = reference.TwoLayerNet(784, 50, 10)
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key].astype(np.float64).tofile(os.path.join(folder, key + ".f64"))


def build(folder, csrc_a, csrc_b, cc):
    objects = []
    for variant, csrc in (("A", csrc_a), ("B", csrc_b)):
        for source in ("two_layer.c", "netgrad.c"):
            if not os.path.isfile(os.path.join(csrc, source)):
                raise SystemExit("kernel_ab: no %s in %s" % (source, csrc))
        # the shared kernels the two call (affine.c) compiled beside them with
        # their names prefixed too, so that A's and B's do not clash
        renames = []
        shared = [f for f in SHARED if os.path.isfile(os.path.join(csrc, f))]
        for f in shared:
            probe = os.path.join(folder, "%s_probe.o" % variant)
            subprocess.run([cc, *FLAGS, "-I" + csrc, "-c", os.path.join(csrc, f), "-o", probe],
                           check=True)
            names = subprocess.run(["nm", "-g", "--defined-only", probe], check=True,
                                   capture_output=True, text=True).stdout.split()[2::3]
            renames += ["-D%s=%s_%s" % (n, variant, n) for n in names if n.isidentifier()]
        # each kernel file in its own object, as setup.py compiles it
        for stem in ("variant", "variant_netgrad"):
            objects.append(os.path.join(folder, "%s_%s.o" % (variant, stem)))
            subprocess.run([cc, *FLAGS, *renames, "-DVARIANT=" + variant, "-I" + csrc, "-c",
                            os.path.join(HERE, stem + ".c"), "-o", objects[-1]], check=True)
        for f in shared:
            objects.append(os.path.join(folder, "%s_%s.o" % (variant, f[:-2])))
            subprocess.run([cc, *FLAGS, *renames, "-I" + csrc, "-c", os.path.join(csrc, f),
                            "-o", objects[-1]], check=True)
    exe = os.path.join(folder, "kernel_ab")
    subprocess.run([cc, *FLAGS, os.path.join(HERE, "kernel_ab.c"), *objects,
                    "-o", exe, "-lm"], check=True)
    return exe


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csrc_a")
    ap.add_argument("csrc_b")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calls", type=int, default=None,
                    help="calls per variant (default 2000 in recipe mode, 200 in numgrad, "
                         "20 in accuracy and predict)")
    ap.add_argument("--mode", choices=("recipe", "accuracy", "predict", "numgrad"),
                    default="recipe")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the program")
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--workdir", default=None,
                    help="keep the data and the program here (default: a temporary folder)")
    args = ap.parse_args(argv)
    if args.threads < 1 or args.repeat < 1 or (args.calls is not None and args.calls < 1):
        ap.error("--threads, --calls and --repeat must be >= 1")
    calls = args.calls or {"recipe": 2000, "numgrad": 200}.get(args.mode, 20)
    with tempfile.TemporaryDirectory() as tmp:
        folder = tmp
        if args.workdir:
            folder = os.path.abspath(args.workdir)
            os.makedirs(folder, exist_ok=True)
        write_data(folder)
        exe = build(folder, os.path.abspath(args.csrc_a), os.path.abspath(args.csrc_b), args.cc)
        for _ in range(args.repeat):
            out = subprocess.run([exe, folder, str(args.threads), str(calls), args.mode],
                                 check=True, capture_output=True, text=True).stdout
            sys.stdout.write(out)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
