"""cnnapp: small convolutional networks for 64x64 photos, from the course's two models onwards."""


def __getattr__(name: str):
    """`cnnapp.load` is imported on first use, so that `import cnnapp` stays light."""
    if name == "load":
        from cnnapp.inference import load

        return load
    raise AttributeError(f"module 'cnnapp' has no attribute {name!r}")
