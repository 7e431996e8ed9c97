"""Check a built cnet wheel: contents, vendored OpenMP runtime, size, and (x86-64 Linux) its ISA.

Usage::

    python tools/check_wheel.py wheelhouse/cnet_dlfs-*.whl [--source .] [--openmp-runtime] [--isa]

Always checked, against the source tree:

* every ``cnet/_<name>.pyx`` has its compiled module in the wheel;
* every file of ``cnet/dataset/data/`` is in the wheel;
* no tests, Cython or C sources, byte code or build folders are shipped.

``--openmp-runtime``: the OpenMP runtime is vendored by the repair tool
(``<dist>.libs/libgomp*`` from auditwheel, ``cnet/.dylibs/libomp*`` from delocate,
``<dist>.libs/vcomp140*`` from delvewheel; ``<dist>`` is the distribution's name,
``cnet_dlfs``, which those tools name their folder after).

``--isa`` (x86-64 Linux wheels; needs binutils' objdump and readelf): the code
assumes only baseline x86-64. Every function of cnet's own extension modules is
disassembled; only the clones that GCC's ``target_clones`` makes for a
run-time dispatched function (``<name>.avx2``, ``<name>.arch_x86_64_v3``, ...,
never ``<name>.default``), or functions named ``<name>_avx2`` /
``<name>_avx512*``, may hold VEX/EVEX (AVX) instructions. Modules whose
``csrc/<name>.c`` uses ``CNET_DISPATCH`` must carry the run-time resolvers
(IFUNC symbols) for those clones; they are listed. Fused multiply-adds may
appear only in modules whose sources use ``CNET_DISPATCH_FMA``, and in the
functions of a shared source that uses it (``SHARED_SOURCES`` in setup.py: a
shared ``csrc/<stem>.c`` names its functions ``<stem>_*``); the functions of a
shared source that does not use it may not fuse in any module, a fusing one
included: elsewhere an AVX-512F clone that fused a multiply and an add would
round differently from the AVX2 and baseline code.

The wheel's size is printed, split into compiled code, vendored libraries, data
and the rest. Exit status 0 when every check passes, 1 otherwise.
"""
import argparse
import ast
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

# Where AVX code may live: the clones GCC's target_clones makes for an IFUNC
# symbol X (X.avx2, X.arch_x86_64_v3, ..., their OpenMP bodies and .cold parts;
# never X.default), or a hand-written variant named name_avx2 / name_avx512...
# Name parts GCC appends that are not a clone's target.
NOT_A_TARGET = ("default", "resolver", "_omp_fn", "part", "constprop", "isra", "cold",
                "localalias", "lto_priv")
HAND_NAMED = re.compile(r"_avx(2|512[a-z]*)([._]|$)")
DISPATCH_USE = re.compile(r"^(?!\s*#\s*define).*\bCNET_DISPATCH(?:_FMA)?\b", re.M)
FMA_USE = re.compile(r"^(?!\s*#\s*define).*\bCNET_DISPATCH_FMA\b", re.M)
FMA_INSN = re.compile(r"^vf(n?)m(add|sub)")
LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SHIPPED_NEVER = ("tests/*", "*.pyx", "*.pxd", "*.c", "*.h", "*.pyc", "*/__pycache__/*",
                 "build/*")
RUNTIME_BY_PLATFORM = (
    ("linux", "cnet_dlfs.libs/libgomp*"),
    ("macosx", "cnet/.dylibs/libomp*"),
    ("win", "cnet_dlfs.libs/vcomp140*"),
)


def platform_tag(wheel):
    """The platform tag of a wheel file name (``manylinux_2_28_x86_64`` ...)."""
    return os.path.basename(wheel)[:-len(".whl")].split("-")[-1]


def kib(n):
    return "%.1f KiB" % (n / 1024)


def report_size(wheel, infos):
    groups = {"compiled extensions": 0, "vendored libraries": 0, "sample data": 0,
              "python and metadata": 0}
    raw = dict(groups)
    for i in infos:
        name = i.filename
        if ".libs/" in name or "/.dylibs/" in name:
            key = "vendored libraries"
        elif name.startswith("cnet/dataset/data/"):
            key = "sample data"
        elif name.endswith((".so", ".pyd")):
            key = "compiled extensions"
        else:
            key = "python and metadata"
        groups[key] += i.compress_size
        raw[key] += i.file_size
    print("wheel %s: %s (%d files)" % (os.path.basename(wheel), kib(os.path.getsize(wheel)),
                                       len(infos)))
    for key in groups:
        print("  %-20s %10s compressed, %10s unpacked" % (key, kib(groups[key]), kib(raw[key])))


def check_contents(names, source):
    problems = []
    for pyx in sorted(glob.glob(os.path.join(source, "cnet", "_*.pyx"))):
        mod = os.path.splitext(os.path.basename(pyx))[0]
        pattern = re.compile(r"cnet/%s\.[^/]*\.(so|pyd)$" % re.escape(mod))
        if not any(pattern.match(n) for n in names):
            problems.append("no compiled module for cnet/%s.pyx" % mod)
    data_dir = os.path.join(source, "cnet", "dataset", "data")
    for path in sorted(glob.glob(os.path.join(data_dir, "*"))):
        rel = "cnet/dataset/data/" + os.path.basename(path)
        if os.path.isfile(path) and rel not in names:
            problems.append("bundled data missing: %s" % rel)
    for n in names:
        if any(fnmatch.fnmatch(n, g) for g in SHIPPED_NEVER):
            problems.append("must not be shipped: %s" % n)
    return problems


def check_runtime(wheel, names):
    tag = platform_tag(wheel)
    for prefix, pattern in RUNTIME_BY_PLATFORM:
        if prefix in tag:
            found = [n for n in names if fnmatch.fnmatch(n, pattern)]
            if not found:
                return ["no vendored OpenMP runtime (%s) in a %s wheel" % (pattern, tag)]
            print("OpenMP runtime vendored: %s" % ", ".join(found))
            return []
    return ["no known OpenMP runtime for platform tag %s" % tag]


def functions(objdump_text):
    """Map function name -> list of instruction mnemonics, from objdump -d."""
    funcs, current = {}, None
    head = re.compile(r"^[0-9a-f]+ <(.+)>:$")
    for line in objdump_text.splitlines():
        m = head.match(line)
        if m:
            current = funcs.setdefault(m.group(1), [])
            continue
        if current is not None and "\t" in line:
            parts = line.split("\t")
            if len(parts) >= 2 and parts[-1].strip():
                current.append(parts[-1].strip())
    return funcs


def is_avx(instruction):
    """True for a VEX/EVEX-encoded (AVX, AVX2, AVX-512) instruction.

    Every such mnemonic starts with 'v' in AT&T syntax, and no baseline x86-64
    (SSE/SSE2) instruction that a compiler emits does; %ymm/%zmm/%k registers
    are AVX-only too.
    """
    ops = instruction.split()
    while ops and ops[0] in ("lock", "rep", "repz", "repnz", "notrack", "bnd", "data16"):
        ops = ops[1:]
    if not ops:
        return False
    return ops[0].startswith("v") or "%ymm" in instruction or "%zmm" in instruction


def modules_using(source, pattern):
    """Modules whose csrc/<name>.c (or a header it includes) matches pattern."""
    out = set()
    csrc = os.path.join(source, "csrc")
    for c in glob.glob(os.path.join(csrc, "*.c")):
        with open(c, encoding="utf-8") as f:
            texts = [f.read()]
        for inc in LOCAL_INCLUDE.findall(texts[0]):
            h = os.path.join(csrc, inc)
            if inc != "cnet_common.h" and os.path.isfile(h):
                with open(h, encoding="utf-8") as f:
                    texts.append(f.read())
        if any(pattern.search(t) for t in texts):
            out.add("_" + os.path.splitext(os.path.basename(c))[0])
    return out


def shared_sources(source):
    """setup.py's SHARED_SOURCES ({module: [C files compiled into it besides its
    own]}), read without running setup.py."""
    with open(os.path.join(source, "setup.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "SHARED_SOURCES"):
            return ast.literal_eval(node.value)
    return {}


def symbols(readelf_text):
    """(IFUNC names, FUNC names) from readelf -sW."""
    ifuncs, funcs = set(), set()
    for line in readelf_text.splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].endswith(":"):
            if f[3] == "IFUNC" and not f[7].endswith(".resolver"):
                ifuncs.add(f[7])
            elif f[3] == "FUNC":
                funcs.add(f[7])
    return ifuncs, funcs


def is_wide_clone(name, ifuncs):
    """True for a target clone (not the default) of a dispatched function."""
    if HAND_NAMED.search(name):
        return True
    parts = name.split(".")
    for k in range(len(parts) - 1, 0, -1):  # the longest dispatched prefix decides
        if ".".join(parts[:k]) in ifuncs:
            return parts[k] not in NOT_A_TARGET
    return False


def check_isa(wheel, source):
    tag = platform_tag(wheel)
    if not tag.endswith("x86_64") or "linux" not in tag:
        print("ISA check: not applicable to %s (only x86-64 Linux has run-time dispatch)" % tag)
        return []
    for tool in ("objdump", "readelf"):
        if shutil.which(tool) is None:
            return ["ISA check needs %s (binutils) on PATH" % tool]
    dispatching = modules_using(source, DISPATCH_USE)
    fusing = modules_using(source, FMA_USE)
    # {module: name prefixes of the fusing shared sources compiled into it}
    fusing_shared = {mod: tuple(os.path.splitext(f)[0] + "_" for f in files
                                if "_" + os.path.splitext(f)[0] in fusing)
                     for mod, files in shared_sources(source).items()}
    # {module: name prefixes of the shared sources that must not fuse}
    plain_shared = {mod: tuple(os.path.splitext(f)[0] + "_" for f in files
                               if "_" + os.path.splitext(f)[0] not in fusing)
                    for mod, files in shared_sources(source).items()}
    problems = []
    tmp = tempfile.mkdtemp(prefix="cnet-isa-")
    try:
        with zipfile.ZipFile(wheel) as z:
            sos = [n for n in z.namelist() if re.match(r"cnet/_[^/]*\.so$", n)]
            for n in sos:
                z.extract(n, tmp)
        for n in sos:
            path = os.path.join(tmp, n)
            mod = os.path.basename(n).split(".")[0]
            dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-j", ".text", path],
                                 check=True, capture_output=True, text=True).stdout
            syms = subprocess.run(["readelf", "-sW", path], check=True,
                                  capture_output=True, text=True).stdout
            ifuncs, _ = symbols(syms)
            entry = sorted(i for i in ifuncs if "._omp_fn." not in i)
            wide, leaks = 0, []
            for name, insns in functions(dis).items():
                avx = [i for i in insns if is_avx(i)]
                if is_wide_clone(name, ifuncs):
                    wide += bool(avx)
                elif avx:
                    leaks.append("%s (%s)" % (name, avx[0]))
                fused = [i for i in insns if FMA_INSN.match(i)]
                if fused and (name.startswith(plain_shared.get(mod, ()))
                              or (mod not in fusing
                                  and not name.startswith(fusing_shared.get(mod, ())))):
                    problems.append("%s: fused multiply-add in %s (%s), whose module "
                                    "does not use CNET_DISPATCH_FMA" % (mod, name, fused[0]))
            print("%s: %d run-time dispatched functions%s; %d wide clones use AVX; "
                  "baseline code AVX-free: %s"
                  % (os.path.basename(n), len(entry),
                     (" (" + ", ".join(entry) + ")") if entry else "",
                     wide, "yes" if not leaks else "NO"))
            for leak in leaks:
                problems.append("%s: AVX outside a dispatched clone in %s" % (mod, leak))
            if mod in dispatching and not ifuncs:
                problems.append("%s: csrc uses CNET_DISPATCH but the module has no IFUNC "
                                "resolver (was it built by GCC for glibc x86-64?)" % mod)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel")
    parser.add_argument("--source", default=os.path.join(os.path.dirname(__file__), ".."),
                        help="the source tree the wheel was built from (default: this "
                             "script's repository)")
    parser.add_argument("--openmp-runtime", action="store_true",
                        help="require the OpenMP runtime to be vendored")
    parser.add_argument("--isa", action="store_true",
                        help="check baseline x86-64 code and run-time dispatch clones")
    args = parser.parse_args(argv)
    source = os.path.abspath(args.source)
    with zipfile.ZipFile(args.wheel) as z:
        infos = [i for i in z.infolist() if not i.is_dir()]
    names = [i.filename for i in infos]
    report_size(args.wheel, infos)
    problems = check_contents(names, source)
    if args.openmp_runtime:
        problems += check_runtime(args.wheel, names)
    if args.isa:
        problems += check_isa(args.wheel, source)
    if problems:
        sys.stdout.flush()
        print("check_wheel: FAILED", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print("check_wheel: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
