"""``python -m cnet.compat`` and ``cnet.compat.install()`` on a book-style tree.

Every file of the tree is written here by the test (no code of the book): a
script in ``ch04/``, a local helper module beside it, a ``two_layer_net.py``
whose digest the test adds to the known versions (so it is swapped for cnet's
TwoLayerNet), and the same file changed by the reader (run as written).
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from cnet import compat

SCRIPT = textwrap.dedent("""\
    import sys, os
    sys.path.append(os.pardir)
    from common.functions import softmax
    from common.gradient import numerical_gradient
    from common.extra_tool import EXTRA
    from dataset.mnist import load_mnist
    import helper
    from two_layer_net import TwoLayerNet
    print("name", __name__)
    print("argv", " ".join(sys.argv))
    print("softmax", softmax.__module__)
    print("numerical_gradient", numerical_gradient.__module__)
    print("load_mnist", load_mnist.__module__)
    print("extra", EXTRA)
    print("helper", helper.VALUE)
    print("net", TwoLayerNet.__module__, TwoLayerNet.__name__)
    print("side", __import__("two_layer_net").SIDE_EFFECT)
    if sys.argv[1] == "raise":
        raise ValueError("the script's own error")
    sys.exit(int(sys.argv[1]))
""")

NETWORK = textwrap.dedent("""\
    # A stand-in for the book's network file, written by the test.
    import numpy as np
    from common.functions import sigmoid
    SIDE_EFFECT = "module ran"


    class TwoLayerNet:
        def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
            self.params = {}
""")


@pytest.fixture
def book(tmp_path):
    """A book-style tree; returns (root, digest of two_layer_net.py)."""
    ch04 = tmp_path / "ch04"
    ch04.mkdir()
    (ch04 / "train.py").write_text(SCRIPT)
    (ch04 / "helper.py").write_text("VALUE = 42\n")
    (ch04 / "two_layer_net.py").write_bytes(NETWORK.replace("\n", "\r\n").encode())
    common = tmp_path / "common"
    common.mkdir()
    (common / "__init__.py").write_text("")
    (common / "extra_tool.py").write_text("EXTRA = 'the book folder'\n")
    digest = hashlib.sha256(NETWORK.encode()).hexdigest()  # LF form of the CRLF file
    return tmp_path, digest


def run_compat(root, args, known=(), cwd=None):
    """``python -m cnet.compat ARGS`` run in ``ch04/`` (as the book's scripts are),
    with ``known`` digests added to ch04's versions."""
    code = textwrap.dedent("""\
        import json, sys
        import cnet.compat as compat
        compat.BOOK_FILES["two_layer_net@ch04"]["sha256"].update(
            {d: "test" for d in json.loads(sys.argv[1])})
        sys.exit(compat.main(sys.argv[2:]))
    """)
    return subprocess.run([sys.executable, "-c", code, json.dumps(list(known))] + args,
                          capture_output=True, text=True, cwd=str(cwd or root / "ch04"),
                          timeout=120)


def lines(out):
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def test_unmodified_network_file_is_swapped(book):
    root, digest = book
    res = run_compat(root, ["train.py", "3", "b c"], known=[digest])
    assert res.returncode == 3, res.stderr
    got = lines(res.stdout)
    assert got["name"] == "__main__"
    assert got["argv"] == "train.py 3 b c"
    assert got["softmax"] == "cnet.functions"
    assert got["numerical_gradient"] == "cnet.gradient"
    assert got["load_mnist"] == "cnet.dataset.mnist"
    assert got["extra"] == "the book folder"  # not in cnet: the book's own common/
    assert got["helper"] == "42"  # the script's folder comes first on sys.path
    assert got["net"] == "cnet.two_layer_net TwoLayerNet"
    assert got["side"] == "module ran"  # the file itself still ran
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cnet.compat: ")
    assert "two_layer_net.py is the book's ch04/two_layer_net.py" in err[0] and "cnet.two_layer_net.TwoLayerNet" in err[0]


def test_no_swap_option_keeps_the_files_class(book):
    root, digest = book
    res = run_compat(root, ["--no-swap", "train.py", "0"], known=[digest])
    assert res.returncode == 0, res.stderr
    assert lines(res.stdout)["net"] == "two_layer_net TwoLayerNet"
    assert lines(res.stdout)["softmax"] == "cnet.functions"
    assert res.stderr == ""


def test_a_changed_network_file_runs_as_written(book):
    root, digest = book
    path = root / "ch04" / "two_layer_net.py"
    path.write_bytes(path.read_bytes() + b"# the reader's note\r\n")
    res = run_compat(root, ["train.py", "0"], known=[digest])
    assert res.returncode == 0, res.stderr
    assert lines(res.stdout)["net"] == "two_layer_net TwoLayerNet"
    assert res.stderr == ""


def test_unknown_file_is_not_swapped(book):
    root, _ = book
    res = run_compat(root, ["train.py", "0"])
    assert lines(res.stdout)["net"] == "two_layer_net TwoLayerNet"


def test_script_traceback_and_status_are_its_own(book):
    root, digest = book
    res = run_compat(root, ["train.py", "raise"], known=[digest])
    assert res.returncode == 1
    tb = res.stderr.split("Traceback (most recent call last):\n", 1)[1]
    frames = re.findall(r'File "([^"]+)"', tb)
    assert frames and all(f.endswith("train.py") for f in frames), tb
    assert tb.rstrip().endswith("ValueError: the script's own error")


def test_runner_usage_errors(tmp_path):
    res = run_compat(tmp_path, ["missing.py"], cwd=tmp_path)
    assert res.returncode == 2 and "no such script: missing.py" in res.stderr
    res = run_compat(tmp_path, ["--frobnicate", "x.py"], cwd=tmp_path)
    assert res.returncode == 2 and "unknown option --frobnicate" in res.stderr


def test_install_in_a_fresh_interpreter(book):
    root, digest = book
    code = textwrap.dedent("""\
        import json, sys
        import cnet.compat, cnet.functions, cnet.dataset.mnist
        cnet.compat.BOOK_FILES["two_layer_net@ch04"]["sha256"][sys.argv[1]] = "test"
        cnet.compat.install()
        import common.functions
        from dataset.mnist import load_mnist
        from two_layer_net import TwoLayerNet
        import cnet.two_layer_net
        print(json.dumps({
            "same_module": common.functions is cnet.functions,
            "spec_kept": cnet.functions.__spec__.name,
            "load_mnist": load_mnist is cnet.dataset.mnist.load_mnist,
            "net": TwoLayerNet is cnet.two_layer_net.TwoLayerNet,
        }))
        cnet.compat.uninstall()
        print("common" in sys.modules)
    """)
    res = subprocess.run([sys.executable, "-c", code, digest], capture_output=True, text=True,
                         cwd=str(root / "ch04"), timeout=120)
    assert res.returncode == 0, res.stderr
    out = res.stdout.splitlines()
    assert json.loads(out[0]) == {"same_module": True, "spec_kept": "cnet.functions",
                                  "load_mnist": True, "net": True}
    assert out[1] == "False"
    assert "cnet.compat: " in res.stderr


def test_known_versions_are_recorded_for_the_four_book_files():
    files = {e["book_file"]: e for e in compat.BOOK_FILES.values()}
    assert sorted(files) == ["ch04/two_layer_net.py", "ch05/two_layer_net.py",
                             "ch07/simple_convnet.py", "ch08/deep_convnet.py"]
    assert files["ch04/two_layer_net.py"]["cnet"] == ("cnet.two_layer_net", "TwoLayerNet")
    assert files["ch05/two_layer_net.py"]["cnet"] == ("cnet.ch05_two_layer_net", "TwoLayerNet")
    assert files["ch07/simple_convnet.py"]["cnet"] == ("cnet.simple_convnet", "SimpleConvNet")
    assert files["ch08/deep_convnet.py"]["cnet"] == ("cnet.deep_convnet", "DeepConvNet")
    digests = [d for e in files.values() for d in e["sha256"]]
    assert all(re.fullmatch("[0-9a-f]{64}", d) for d in digests)
    assert len(set(digests)) == len(digests) == 29
