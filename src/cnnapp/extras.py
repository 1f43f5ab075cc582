"""cnnapp's optional parts (the extras of pyproject.toml): which extra installs each package, and the one-line
error when a command or `cnnapp.load` needs one that is missing."""

from cnnapp.errors import CnnappError

EXTRA_OF = {
    "tensorflow": "train",
    "keras": "train",
    "sklearn": "train",
    "matplotlib": "train",
    "onnx": "train",
    "tf2onnx": "train",
    "mtcnn": "faces",
    "fastapi": "serve",
    "starlette": "serve",
    "anyio": "serve",
    "uvicorn": "serve",
    "multipart": "serve",
    "python_multipart": "serve",
    "swagger_ui_bundle": "serve",
    "keras_tuner": "tune",
    "grpc": "tune",
    "mediapipe": "hands",
}
"""The extra that installs each package cnnapp imports beyond its core, by the name it is imported as."""


def missing_extra(error: ModuleNotFoundError, who: str) -> Exception:
    """A CnnappError saying that `who` needs the extra of the package error misses, with the command that installs
    it; error itself when the package is in no extra (a broken install, not a missing part)."""
    extra = EXTRA_OF.get((error.name or "").split(".")[0])
    if extra is None:
        return error
    return CnnappError(f"{who} needs the {extra} extra: pip install 'cnnapp[{extra}]'")
