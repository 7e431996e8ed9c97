"""``import cnet`` itself: its lazy attributes, and the message in an unbuilt checkout."""
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

import cnet


@pytest.mark.parametrize("name", cnet._SUBMODULES)
def test_attribute_exists_exactly_when_the_module_does(name):
    present = importlib.util.find_spec("cnet." + name) is not None
    # hasattr must answer, never raise ModuleNotFoundError.
    assert hasattr(cnet, name) is present
    assert (name in dir(cnet)) is present
    if not present:
        with pytest.raises(AttributeError, match="has no attribute"):
            getattr(cnet, name)


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        cnet.no_such_thing  # noqa: B018


def test_import_from_an_unbuilt_source_checkout_says_so(tmp_path):
    """Python puts the current folder first on sys.path: in a checkout whose
    compiled modules are not built, ``import cnet`` gets one clear message
    instead of a circular-import error."""
    here = os.path.dirname(cnet.__file__)
    src = tmp_path / "cnet"
    src.mkdir()
    for name in ("__init__.py", "_version.py", "config.py"):
        shutil.copy(os.path.join(here, name), src / name)
    (src / "_config.pyx").write_text("# Cython source, not built\n")
    # (an editable install's import hook would find the built modules anyway)
    code = ("import sys; sys.meta_path[:] = [m for m in sys.meta_path "
            "if not getattr(m, '__module__', '').startswith('__editable__')]; import cnet")
    out = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: cnet is being imported from its source folder")
    assert "circular import" not in out.stderr
