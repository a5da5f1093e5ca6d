"""zoo: pull verified model-zoo artifacts and keep model cards true to the files they link.

The command line (``zoo ...``) is a thin layer over these modules; a release script can import them
directly, e.g. ``from zoo.catalog.registry import load_registry``.
"""

__version__ = "0.1.0"
