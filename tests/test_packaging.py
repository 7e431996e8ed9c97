"""The installed package is complete and its sources stay portable to every wheel platform."""
import glob
import importlib
import os
import re

import pytest

SOURCE = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
PYX = sorted(glob.glob(os.path.join(SOURCE, "cnet", "_*.pyx")))


def test_source_tree_is_beside_the_tests():
    # The checks below read the sources; without them they would check nothing.
    assert PYX, "no cnet/_*.pyx beside %s" % os.path.dirname(__file__)


@pytest.mark.parametrize("pyx", PYX, ids=[os.path.basename(p) for p in PYX])
def test_every_cython_module_is_installed_compiled(pyx):
    name = "cnet." + os.path.splitext(os.path.basename(pyx))[0]
    mod = importlib.import_module(name)
    assert mod.__file__.endswith((".so", ".pyd")), (name, mod.__file__)


# MSVC's /openmp implements OpenMP 2.0 only (its OpenMP 3 mode needs a runtime
# that may not be redistributed), so the Windows wheels compile these sources
# with 2.0: no simd/task/collapse/min-max reductions, and signed loop counters.
OPENMP_2_0_FORBIDDEN = re.compile(
    r"#\s*pragma\s+omp\b[^\n]*\b(simd|task|taskloop|taskwait|target|teams|collapse|"
    r"declare|atomic\s+(?:capture|read|write)|reduction\s*\(\s*(?:min|max))\b")
OMP_FOR = re.compile(r"#\s*pragma\s+omp\b[^\n]*\bfor\b[^\n]*\n\s*for\s*\(\s*([^;=]*?)\w+\s*=")


def _c_sources():
    return sorted(glob.glob(os.path.join(SOURCE, "csrc", "*.[ch]")))


@pytest.mark.parametrize("path", _c_sources(), ids=lambda p: os.path.basename(p))
def test_c_sources_use_only_openmp_2_0(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    bad = [m.group(0) for m in OPENMP_2_0_FORBIDDEN.finditer(text)]
    assert not bad, "OpenMP beyond 2.0 (MSVC cannot build it): %s" % bad
    for m in OMP_FOR.finditer(text):
        decl = m.group(1).strip()
        assert not re.search(r"\b(unsigned|size_t|uint\w*)\b", decl), (
            "OpenMP 2.0 needs a signed loop counter: %r" % m.group(0))


def test_openmp_2_0_checks_catch_what_they_name():
    # Guards the two patterns above against silently matching nothing.
    assert OPENMP_2_0_FORBIDDEN.search("#pragma omp parallel for simd\n")
    assert OPENMP_2_0_FORBIDDEN.search("#pragma omp parallel for reduction(max: m)\n")
    assert OPENMP_2_0_FORBIDDEN.search("#pragma omp parallel for collapse(2)\n")
    assert not OPENMP_2_0_FORBIDDEN.search("#pragma omp parallel for schedule(static)\n")
    m = OMP_FOR.search("#pragma omp parallel for\n    for (size_t i = 0; i < n; i++)")
    assert m and "size_t" in m.group(1)
    m = OMP_FOR.search("#pragma omp for schedule(static)\n for (ptrdiff_t b = 0; b < B; b++)")
    assert m and m.group(1).strip() == "ptrdiff_t"
