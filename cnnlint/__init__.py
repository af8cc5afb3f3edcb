"""cnnlint: static shape analysis of PyTorch and Keras model code. Nothing heavy is imported here."""

__version__ = "0.1.0"


def lint_source(text, path="<string>", **kwargs):
    from .api import lint_source as impl
    return impl(text, path, **kwargs)


def lint_paths(paths, **kwargs):
    from .api import lint_paths as impl
    return impl(paths, **kwargs)


def analyze_source(text, path="<string>"):
    from .api import analyze_source as impl
    return impl(text, path)
