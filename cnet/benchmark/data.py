"""MNIST for the benchmarks: the full set when it can be loaded, else the sample."""
import warnings


def load_benchmark_mnist(one_hot_label=True, allow_sample=True):
    """``((x_train, t_train), (x_test, t_test)), source`` for the benchmarks.

    The full MNIST comes through :func:`cnet.dataset.mnist.load_mnist` (cache,
    then ``$CNET_MNIST_MIRROR``, then the public mirrors). When that fails and
    ``allow_sample`` is true, the bundled sample is used and ``source`` says so,
    so a report never passes sample figures off as full-set ones.
    """
    from cnet.dataset.mnist import load_mnist
    try:
        data = load_mnist(normalize=True, one_hot_label=one_hot_label, verbose=False)
        return data, "MNIST (60,000 train / 10,000 test)"
    except Exception as exc:  # offline with nothing cached, or a bad mirror
        if not allow_sample:
            raise
        warnings.warn("full MNIST unavailable (%s); benchmarking on the bundled sample"
                      % str(exc).splitlines()[0])
        data = load_mnist(normalize=True, one_hot_label=one_hot_label, sample=True)
        n_train, n_test = data[0][0].shape[0], data[1][0].shape[0]
        return data, "MNIST sample bundled with cnet (%d train / %d test)" % (n_train, n_test)
