"""Figures of a training run (needs matplotlib: the ``[plot]`` extra)."""

__all__ = ["plot_training"]


def plot_training(run, path, title=None):
    """Write the book's accuracy figure beside the loss curve, as a PNG.

    Left: train and test accuracy at each epoch (the figure of
    ``ch04/train_neuralnet.py``: epochs on x, accuracy from 0 to 1). Right:
    the batch loss at every iteration.

    Parameters
    ----------
    run : cnet.training.TrainingRun
    path : str or os.PathLike
        The PNG to write.
    title : str, optional
        Shown above both panels.
    """
    # The Agg canvas draws without pyplot, so no display or GUI backend is needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(fig)
    acc, loss = fig.subplots(1, 2)
    epochs = range(len(run.train_acc))
    acc.plot(epochs, run.train_acc, marker="o", label="train acc")
    acc.plot(epochs, run.test_acc, marker="s", linestyle="--", label="test acc")
    acc.set_xlabel("epochs")
    acc.set_ylabel("accuracy")
    acc.set_ylim(0, 1.0)
    acc.legend(loc="lower right")
    acc.grid(alpha=0.3)
    loss.plot(range(1, len(run.train_loss) + 1), run.train_loss, linewidth=0.6)
    loss.set_xlabel("iteration")
    loss.set_ylabel("loss")
    loss.grid(alpha=0.3)
    status = "%d of %d iterations" % (run.iters_done, run.iters) if run.interrupted \
        else "%d iterations" % run.iters_done
    fig.suptitle("%s%s" % (title + ", " if title else "", status))
    fig.tight_layout()
    fig.savefig(path, format="png")
