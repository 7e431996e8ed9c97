import os

import pytest

import cnet


def pytest_report_header(config):
    return "cnet %s from %s, openmp=%s, threads=%d" % (
        cnet.__version__, os.path.dirname(cnet.__file__),
        cnet.config.config_info()["openmp"], cnet.get_num_threads())


@pytest.fixture
def restore_threads():
    """Put the thread count back after a test that changes it."""
    n = cnet.get_num_threads()
    yield
    cnet.set_num_threads(n)
