import subprocess
import sys

import pytest

import cnet


def test_set_and_get_num_threads(restore_threads):
    if not cnet.config.config_info()["openmp"]:
        pytest.skip("built without OpenMP: the thread count is always 1")
    cnet.set_num_threads(1)
    assert cnet.get_num_threads() == 1
    cnet.set_num_threads(2)
    assert cnet.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -3])
def test_set_num_threads_rejects_nonpositive(bad):
    with pytest.raises(ValueError, match="n must be >= 1"):
        cnet.set_num_threads(bad)


@pytest.mark.parametrize("bad", [1.5, "2", None, True])
def test_set_num_threads_rejects_non_int(bad):
    with pytest.raises(TypeError, match="n must be an int"):
        cnet.set_num_threads(bad)


def test_omp_num_threads_is_honoured(tmp_path):
    # The children run in tmp_path: in the source checkout (the README's
    # `pytest tests`) `python -c` and `-m` would import its uncompiled cnet.
    code = "import cnet; print(cnet.get_num_threads())"
    env = dict(__import__("os").environ, OMP_NUM_THREADS="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=str(tmp_path)).stdout.strip()
    expected = "3" if cnet.config.config_info()["openmp"] else "1"
    assert out == expected


def test_openmp_is_compiled_in():
    # The supported build platforms all have OpenMP; a silent single-threaded
    # build would be a packaging regression.
    assert cnet.config.config_info()["openmp"] is True


def test_threadpoolctl_sees_and_limits_openmp(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    cnet.set_num_threads(2)
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert cnet.get_num_threads() == 1
    assert cnet.get_num_threads() == 2


def test_show_config_and_cli_info(capsys, tmp_path):
    cnet.show_config()
    out = capsys.readouterr().out
    for key in ("cnet", "numpy", "compiler", "openmp", "num_threads"):
        assert key in out
    res = subprocess.run([sys.executable, "-m", "cnet", "info"], capture_output=True,
                         text=True, check=True, cwd=str(tmp_path))
    assert cnet.__version__ in res.stdout and "openmp" in res.stdout
