"""Build the compiled half of cnet.

Every ``cnet/_<name>.pyx`` becomes the extension ``cnet._<name>``; when
``csrc/<name>.c`` exists it is compiled into the same extension. All of them get
optimisation and, when the compiler supports it, OpenMP.

Environment switches (build time):

CNET_DISABLE_OPENMP=1   build single-threaded even if the compiler has OpenMP.
CNET_REQUIRE_OPENMP=1   stop with an error (and the compiler's message) when
                        OpenMP cannot be used, instead of building
                        single-threaded with a warning. CI and
                        tools/sanitize.sh set it.
CNET_NATIVE=1           add -march=native (local builds only, never for wheels).
CNET_OPT=-O1            the optimisation flag instead of -O3 (tools/sanitize.sh).

The OpenMP probe compiles and links with the flags the extensions get (CFLAGS,
CPPFLAGS, LDFLAGS included), so that a build with e.g.
CFLAGS="-fsanitize=address" probes what it will build.
"""
import os
import sys
import glob
import shlex
import shutil
import tempfile
import textwrap

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


def _env_args(*names):
    """The words of these environment variables (e.g. CFLAGS), in order."""
    words = []
    for name in names:
        words += shlex.split(os.environ.get(name, ""))
    return words


def _probe_openmp(compiler, compile_args, link_args):
    """None when a small OpenMP program compiles and links with these flags,
    else the error message.

    The compile step uses the compiler as the extensions do (Python's CFLAGS
    and the environment's CFLAGS and CPPFLAGS are part of it). The link step
    of an executable does not get the environment's CFLAGS and LDFLAGS from
    setuptools (the extensions' shared-object link does), so they are added
    here: without them -fsanitize=address in CFLAGS made the probe fail and
    the build silently drop OpenMP. The program is not run: a
    cross-compiling build (macOS arm64 from x86_64) could not.
    """
    tmp = tempfile.mkdtemp(prefix="cnet-omp-")
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(OPENMP_PROBE)
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=compile_args)
        exe = os.path.join(tmp, "probe")
        extra = [] if compiler.compiler_type == "msvc" else _env_args("CFLAGS", "LDFLAGS")
        compiler.link_executable(objs, exe, extra_preargs=extra, extra_postargs=link_args)
        return None
    except Exception as e:  # CompileError, LinkError: the message says why
        return str(e).strip() or type(e).__name__
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    """build_ext that picks optimisation and OpenMP flags for the compiler in use."""

    def finalize_options(self):
        super().finalize_options()
        # The modules compile side by side on every core: pip passes no -j,
        # and one at a time a build from the sdist took twice as long.
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

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
            opt = [os.environ.get("CNET_OPT", "-O3"), "-fno-math-errno",
                   "-Wno-unused-function", "-g0"]
            if _env_flag("CNET_NATIVE"):
                opt.append("-march=native")

        omp_compile, omp_link, omp_used = [], [], False
        required = _env_flag("CNET_REQUIRE_OPENMP")
        if _env_flag("CNET_DISABLE_OPENMP"):
            if required:
                raise SystemExit("cnet: CNET_REQUIRE_OPENMP and CNET_DISABLE_OPENMP "
                                 "are both set")
            print("cnet: OpenMP disabled by CNET_DISABLE_OPENMP; building single-threaded")
        else:
            errors = []
            for c_args, l_args in _openmp_flag_candidates(cc):
                error = _probe_openmp(cc, c_args, l_args)
                if error is None:
                    omp_compile, omp_link, omp_used = c_args, l_args, True
                    break
                errors.append("%s: %s" % (" ".join(c_args), error))
            if omp_used:
                print("cnet: building with OpenMP (%s)" % " ".join(omp_compile))
            elif required:
                raise SystemExit("cnet: CNET_REQUIRE_OPENMP is set but OpenMP cannot be "
                                 "used with this compiler and these flags:\n"
                                 + "\n".join(errors))
            else:
                print("cnet: WARNING: this compiler has no usable OpenMP; building "
                      "single-threaded (set CNET_REQUIRE_OPENMP=1 to make this an "
                      "error). The probe said:\n" + "\n".join(errors))

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


# C files compiled into a module besides its own csrc/<name>.c: kernels of one
# operation that several modules call (the chapter-4 network and its numerical
# gradient compose the fully connected layer's kernels).
SHARED_SOURCES = {
    "_netgrad": ["affine.c"],
    "_two_layer": ["affine.c"],
}


def _extensions():
    import numpy
    from setuptools import Extension

    exts = []
    # A changed header rebuilds every module (setuptools does not scan #includes).
    headers = sorted(glob.glob(os.path.join("csrc", "*.h")))
    for pyx in sorted(glob.glob(os.path.join("cnet", "_*.pyx"))):
        name = os.path.splitext(os.path.basename(pyx))[0]  # "_functions"
        sources = [pyx]
        c_file = os.path.join("csrc", name[1:] + ".c")
        if os.path.exists(c_file):
            sources.append(c_file)
        sources += [os.path.join("csrc", f) for f in SHARED_SOURCES.get(name, ())]
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


# Guarded so that tests can import the probe without building (pip and
# python -m build run this file as __main__).
if __name__ == "__main__":
    from Cython.Build import cythonize
    from setuptools import setup

    setup(
        ext_modules=cythonize(
            _extensions(),
            compiler_directives={"language_level": "3"},
            include_path=["cnet"],
        ),
        cmdclass={"build_ext": BuildExt},
    )
