"""``from cnet.functions import *`` gives what ``from common.functions import *`` gave.

The book's ch04/two_layer_net.py has no ``import numpy`` of its own: it reaches
``np`` through the star import of common/functions.py, so cnet must export it too.
"""
import numpy as np

BOOK_FUNCTION_NAMES = [
    "identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu",
    "relu_grad", "softmax", "sum_squared_error", "cross_entropy_error", "softmax_loss",
]


def test_star_import_exports_numpy_and_the_books_names():
    ns = {}
    exec("from cnet.functions import *", ns)
    assert ns["np"] is np
    for name in BOOK_FUNCTION_NAMES + ["mean_squared_error"]:
        assert callable(ns[name]), name


def test_book_style_module_runs_on_the_star_import_alone():
    # The shape of the book's two-layer network module: np comes only from the star import.
    source = (
        "from cnet.functions import *\n"
        "np.random.seed(3)\n"
        "W1 = 0.01 * np.random.randn(4, 5)\n"
        "b1 = np.zeros(5)\n"
        "x = np.arange(8.0).reshape(2, 4)\n"
        "y = softmax(np.dot(sigmoid(np.dot(x, W1) + b1), np.ones((5, 3))))\n"
    )
    ns = {}
    exec(source, ns)
    assert ns["y"].shape == (2, 3)
    np.testing.assert_allclose(ns["y"].sum(axis=1), 1.0, rtol=1e-12)
