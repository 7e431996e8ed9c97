__version__ = "0.1.0"
# The name pip knows cnet by ("cnet" on PyPI is an unrelated project); the
# import name stays ``cnet``.
DISTRIBUTION = "cnet-dlfs"
