"""cnnapp: small convolutional networks for 64x64 photos, from the course's two models onwards."""

import os

# TensorFlow turns its oneDNN kernels on by itself only on some x86 CPUs; on the others (an AMD EPYC, for one)
# its convolutions train about twice as slowly without them. Read when TensorFlow is first imported.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def __getattr__(name: str):
    """`cnnapp.load` is imported on first use, so that `import cnnapp` stays light."""
    if name == "load":
        from cnnapp.inference import load

        return load
    raise AttributeError(f"module 'cnnapp' has no attribute {name!r}")
