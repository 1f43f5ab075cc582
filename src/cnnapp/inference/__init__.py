"""A trained run put to use on new photos: ONNX Runtime when the run has model.onnx, else Keras."""

from cnnapp.inference.predictor import Prediction, Predictor, load

__all__ = ["Prediction", "Predictor", "load"]
