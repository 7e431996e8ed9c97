"""Data sets of the book: ``cnet.dataset.mnist`` replaces the book's ``dataset/mnist.py``."""
