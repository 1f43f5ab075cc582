"""cnnapp: small convolutional networks for 64x64 photos, from the course's two models onwards."""

import importlib.abc
import importlib.util
import logging
import os
import sys

from cnnapp import lazy
from cnnapp.quiet import native_stderr_silenced

# TensorFlow turns its oneDNN kernels on by itself only on some x86 CPUs; on the others (an AMD EPYC, for one)
# its convolutions train about twice as slowly without them. Read when TensorFlow is first imported.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ log: errors that stop it only


class QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's first import with stderr sent to /dev/null, then keeps its Python loggers to errors.

    TensorFlow writes some lines (oneDNN's, for one) before its C++ log level applies, so only this hides them.
    """

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__spec__.loader = module.__loader__ = self.loader
        with native_stderr_silenced():
            self.loader.exec_module(module)
        for name in ("tensorflow", "absl"):
            logging.getLogger(name).setLevel(logging.ERROR)


class QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Hands TensorFlow's first import, wherever it comes from (Keras, MTCNN, cnnapp), to QuietLoader."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = QuietLoader(spec.loader)
        return spec


if "tensorflow" not in sys.modules:
    sys.meta_path.insert(0, QuietTensorFlow())


def __getattr__(name: str):
    """`cnnapp.load` is imported on first use, so that `import cnnapp` stays light."""
    if name == "load":
        return lazy.load
    raise AttributeError(f"module 'cnnapp' has no attribute {name!r}")
