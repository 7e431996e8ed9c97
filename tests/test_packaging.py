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
OMP_FOR = re.compile(r"#\s*pragma\s+omp\b[^\n]*\bfor\b[^\n]*\n\s*for\s*\(\s*([^;=]*?)(\w+)\s*=")
UNSIGNED = re.compile(r"\b(unsigned|size_t|uint\w*)\b")
NOT_A_TYPE = ("return", "else", "case", "goto", "sizeof", "do")


DECL_HEAD = re.compile(
    r"((?:(?:const|unsigned|signed|long|short|register|static)\s+)*[A-Za-z_]\w*)\s+(.*)", re.S)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def _declared_type(text, var):
    """Type of the last declaration of var in text (None when none is found)."""
    text = COMMENT.sub(" ", text)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    found = None
    for stmt in re.split(r"[;{}]", text):
        m = DECL_HEAD.fullmatch(stmt.strip())
        if not m or m.group(1) in NOT_A_TYPE:
            continue
        depth, start, parts = 0, 0, []
        rest = m.group(2)
        for i, ch in enumerate(rest):
            depth += ch in "(["
            depth -= ch in ")]"
            if ch == "," and depth == 0:
                parts.append(rest[start:i])
                start = i + 1
        parts.append(rest[start:])
        for part in parts:
            name = re.match(r"\s*\**\s*(\w+)\s*(=|\[|$)", part)
            if name and name.group(1) == var:
                found = m.group(1)
    return found


def omp_loop_counters(text):
    """(counter, its type) for every loop under an OpenMP for; the type is read
    from the loop header, else from the counter's last declaration before it."""
    out = []
    for m in OMP_FOR.finditer(text):
        typ = m.group(1).strip() or _declared_type(text[:m.start()], m.group(2))
        out.append((m.group(2), typ))
    return out


def _c_sources():
    return sorted(glob.glob(os.path.join(SOURCE, "csrc", "*.[ch]")))


@pytest.mark.parametrize("path", _c_sources(), ids=lambda p: os.path.basename(p))
def test_c_sources_use_only_openmp_2_0(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    bad = [m.group(0) for m in OPENMP_2_0_FORBIDDEN.finditer(text)]
    assert not bad, "OpenMP beyond 2.0 (MSVC cannot build it): %s" % bad
    for var, typ in omp_loop_counters(text):
        assert typ is not None and not UNSIGNED.search(typ), (
            "OpenMP 2.0 needs a signed loop counter: %s is %s" % (var, typ))


def test_openmp_2_0_checks_catch_what_they_name():
    # Guards the patterns above against silently matching nothing.
    assert OPENMP_2_0_FORBIDDEN.search("#pragma omp parallel for simd\n")
    assert OPENMP_2_0_FORBIDDEN.search("#pragma omp parallel for reduction(max: m)\n")
    assert OPENMP_2_0_FORBIDDEN.search("#pragma omp parallel for collapse(2)\n")
    assert not OPENMP_2_0_FORBIDDEN.search("#pragma omp parallel for schedule(static)\n")
    assert omp_loop_counters("#pragma omp parallel for\n    for (size_t i = 0; i < n; i++)") \
        == [("i", "size_t")]
    assert omp_loop_counters("#pragma omp for schedule(static)\n for (ptrdiff_t b = 0; b < B; b++)") \
        == [("b", "ptrdiff_t")]
    body = ("{\n    size_t work = q * n;\n    ptrdiff_t bb, col, j;\n    unsigned int q;\n"
            "#pragma omp parallel\n    {\n#pragma omp for nowait\n        for (col = 0; col < I; col++)\n"
            "            g(col);\n#pragma omp for\n        for (q = 0; q < nq; q++)\n            h(q);\n")
    assert omp_loop_counters(body) == [("col", "ptrdiff_t"), ("q", "unsigned int")]
