"""What the library imports only when it is first used, in one place: packages that are slow to import or come with
an extra (TensorFlow, MediaPipe, MTCNN, h5py), and the cnnapp modules that import Keras, taken by name, e.g.
`lazy.MTCNN()` or `lazy.h5py.File(path)`. So reading a run, a recipe or a photo imports none of them, and `pip
install cnnapp` without extras predicts with ONNX Runtime.

No other module of the library imports inside a function (tests/test_layers.py); the commands have their own
list, cli/lazy.py.
"""

import importlib

MODULES = {"h5py": "h5py", "mediapipe": "mediapipe", "tensorflow": "tensorflow"}
"""Packages taken whole, by the name they are used under."""
SLOW = {
    "mtcnn": ("MTCNN",),
    "mediapipe.tasks.python": ("BaseOptions",),
    "mediapipe.tasks.python.vision": ("HandLandmarker", "HandLandmarkerOptions", "RunningMode"),
    "cnnapp.data.hands": ("POINTS", "dataset_hands", "find_hands", "turned_features"),
    "cnnapp.data.landmarks": ("FEATURES", "dataset_landmarks", "face_landmarks", "smile_features"),
    "cnnapp.data.views": ("marks_width",),
    "cnnapp.models.augment": ("augmented",),
    "cnnapp.models.course": ("INPUT_SHAPE", "convolutional_model", "happy_model"),
    "cnnapp.models.fused": ("fused_batch_norm",),
    "cnnapp.models.nets": ("sign_net", "sign_reader", "smile_gate", "smile_net"),
    "cnnapp.evaluation.evaluate": ("probabilities",),
    "cnnapp.evaluation.reuse": ("load_model",),
    "cnnapp.inference.onnx_model": ("OnnxModel",),
    "cnnapp.inference": ("load",),
    "cnnapp.inference.export": ("export_onnx",),
    "cnnapp.training.adapt": ("adapt_run",),
}
"""Each module and the names the library takes from it."""

MODULE_OF = {name: module for module, names in SLOW.items() for name in names}


def __getattr__(name: str):
    """The named package, or the named function, class or value, its module imported the first time."""
    if name in MODULES:
        return importlib.import_module(MODULES[name])
    if name not in MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(MODULE_OF[name]), name)
