import os
import socket

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


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture
def loopback_only(monkeypatch):
    """A connection or name lookup beyond this machine fails the test."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in _LOOPBACK:
            raise AssertionError("network access attempted: %r" % (address,))
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in _LOOPBACK:
            raise AssertionError("name lookup attempted: %r" % (host,))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
