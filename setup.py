"""Build the compiled half of cnet.

Every ``cnet/_<name>.pyx`` becomes the extension ``cnet._<name>``; when
``csrc/<name>.c`` exists it is compiled into the same extension. All of them get
optimisation and, when the compiler supports it, OpenMP.

Environment switches (build time):

CNET_DISABLE_OPENMP=1   build single-threaded even if the compiler has OpenMP.
CNET_NATIVE=1           add -march=native (local builds only, never for wheels).
"""
import os
import sys
import glob
import shutil
import tempfile
import textwrap

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        return omp_get_max_threads() > 0 ? 0 : 1;
    }
    """
)


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _openmp_flag_candidates(compiler):
    """(compile args, link args) to try, best first, for this compiler."""
    if compiler.compiler_type == "msvc":
        return [(["/openmp"], [])]
    if sys.platform == "darwin":
        # Apple clang needs libomp (e.g. Homebrew's) and the -Xpreprocessor form.
        prefixes = [os.environ.get("LIBOMP_PREFIX", ""), "/opt/homebrew/opt/libomp",
                    "/usr/local/opt/libomp"]
        cands = [(["-fopenmp"], ["-fopenmp"])]
        for p in prefixes:
            if p and os.path.isdir(p):
                cands.append(
                    (["-Xpreprocessor", "-fopenmp", "-I" + os.path.join(p, "include")],
                     ["-L" + os.path.join(p, "lib"), "-lomp"])
                )
        return cands
    return [(["-fopenmp"], ["-fopenmp"])]


def _probe_openmp(compiler, compile_args, link_args):
    """True when a small OpenMP program compiles and links with these flags.

    It is not run: a cross-compiling build (macOS arm64 from x86_64) could not.
    """
    tmp = tempfile.mkdtemp(prefix="cnet-omp-")
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(OPENMP_PROBE)
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=compile_args)
        exe = os.path.join(tmp, "probe")
        compiler.link_executable(objs, exe, extra_postargs=link_args)
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    """build_ext that picks optimisation and OpenMP flags for the compiler in use."""

    def build_extensions(self):
        cc = self.compiler
        msvc = cc.compiler_type == "msvc"
        if msvc:
            opt = ["/O2", "/fp:precise"]
        else:
            # -fno-math-errno lets libm calls be inlined and vectorised;
            # no -ffast-math: it would break NaN handling and bit-reproducibility.
            # -g0 drops the debug info Python's own CFLAGS ask for: it was two
            # thirds of each module's size in the wheel.
            opt = ["-O3", "-fno-math-errno", "-Wno-unused-function", "-g0"]
            if _env_flag("CNET_NATIVE"):
                opt.append("-march=native")

        omp_compile, omp_link, omp_used = [], [], False
        if _env_flag("CNET_DISABLE_OPENMP"):
            print("cnet: OpenMP disabled by CNET_DISABLE_OPENMP; building single-threaded")
        else:
            for c_args, l_args in _openmp_flag_candidates(cc):
                if _probe_openmp(cc, c_args, l_args):
                    omp_compile, omp_link, omp_used = c_args, l_args, True
                    break
            if omp_used:
                print("cnet: building with OpenMP (%s)" % " ".join(omp_compile))
            else:
                print("cnet: WARNING: this compiler has no usable OpenMP; "
                      "building single-threaded")

        compiler_name = cc.compiler_type
        exe = getattr(cc, "compiler", None)
        if exe:
            compiler_name = os.path.basename(exe[0])
        for ext in self.extensions:
            ext.extra_compile_args = opt + omp_compile + ext.extra_compile_args
            ext.extra_link_args = omp_link + ext.extra_link_args
            ext.define_macros = ext.define_macros + [
                ("CNET_OPENMP", "1" if omp_used else "0"),
                ("CNET_COMPILER", '"%s"' % compiler_name.replace('"', "")),
            ]
        super().build_extensions()


def _extensions():
    exts = []
    # A changed header rebuilds every module (setuptools does not scan #includes).
    headers = sorted(glob.glob(os.path.join("csrc", "*.h")))
    for pyx in sorted(glob.glob(os.path.join("cnet", "_*.pyx"))):
        name = os.path.splitext(os.path.basename(pyx))[0]  # "_functions"
        sources = [pyx]
        c_file = os.path.join("csrc", name[1:] + ".c")
        if os.path.exists(c_file):
            sources.append(c_file)
        exts.append(
            Extension(
                "cnet." + name,
                sources=sources,
                include_dirs=["csrc", numpy.get_include()],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                depends=headers,
            )
        )
    if not exts:
        # A pure-Python wheel would install and then fail at import: stop here.
        raise SystemExit("cnet: no cnet/_*.pyx sources found in %s; the source "
                         "tree or sdist is incomplete" % os.getcwd())
    return exts


setup(
    ext_modules=cythonize(
        _extensions(),
        compiler_directives={"language_level": "3"},
        include_path=["cnet"],
    ),
    cmdclass={"build_ext": BuildExt},
)
