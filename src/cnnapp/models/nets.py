"""Small convolutional networks for 64x64 photos, stronger than the course's: stacked conv blocks with
batch normalisation, then global average pooling, dropout and the classifier. The smile gate and the sign reader
also read a photo's landmark features (its "marks", see data/views.py) through a small dense branch."""

import keras
import numpy as np
from keras import layers

from cnnapp.models.course import INPUT_SHAPE


def conv_block(x, filters: int, convs: int = 1):
    """convs times a 3x3 convolution, batch normalisation and ReLU; then a 2x2 max-pool halves each side."""
    for _ in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)  # running statistics settle within a few epochs
        x = layers.ReLU()(x)
    return layers.MaxPooling2D()(x)


def features(inputs):
    """Four conv blocks, the last two of two convolutions, then global average pooling: 64x64x3 (or 32x32x3) -> 192.
    Each block halves the side: 32, 16, 8, 4 on a 64x64 photo."""
    x = conv_block(inputs, 32)
    x = conv_block(x, 64)
    x = conv_block(x, 128, convs=2)
    x = conv_block(x, 192, convs=2)
    x = layers.GlobalAveragePooling2D()(x)  # 192
    return layers.Dropout(0.3)(x)


def halved(inputs):
    """The photo at half its side, each pixel the mean of four: 64x64x3 -> 32x32x3. A hand's sign still shows at
    32x32, and the conv blocks after it do a quarter of the arithmetic."""
    return layers.AveragePooling2D(2)(inputs)


def sign_net(classes: int) -> keras.Model:
    """Which hand sign, as a softmax over classes, from the photo at half its side."""
    inputs = keras.Input(shape=INPUT_SHAPE)
    outputs = layers.Dense(classes, activation="softmax")(features(halved(inputs)))
    return keras.Model(inputs, outputs, name="sign-net")


def smile_net() -> keras.Model:
    """Smiling or not, as one sigmoid unit."""
    inputs = keras.Input(shape=INPUT_SHAPE)
    outputs = layers.Dense(1, activation="sigmoid")(features(inputs))
    return keras.Model(inputs, outputs, name="smile-net")


def marks_branch(marks):
    """The landmark features standardised by batch normalisation, then two dense layers: (k,) -> 64. In training,
    half the photos' marks are dropped whole, so that the pixels learn to answer alone (a photo with no face or
    hand found has only them)."""
    x = layers.BatchNormalization()(marks)
    x = layers.Dropout(0.5, noise_shape=(None, 1))(x)  # whole rows
    x = layers.Dense(64, activation="relu")(x)
    return layers.Dense(64, activation="relu")(x)


def pixels_and_marks(width: int):
    """The two inputs of a network that reads marks, and their joined features: 192 from the pixels + 64."""
    image = keras.Input(shape=INPUT_SHAPE, name="image")
    marks = keras.Input(shape=(width,), name="marks")
    joined = layers.Concatenate()([features(image), marks_branch(marks)])  # 256
    return [image, marks], layers.Dropout(0.3)(joined)


def smile_gate(width: int) -> keras.Model:
    """Smiling or not from the face crop's pixels and the face's landmark features (width of them)."""
    inputs, x = pixels_and_marks(width)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="smile-gate")


def sign_reader(classes: int, width: int) -> keras.Model:
    """Which hand sign from the photo's pixels and the hand's landmark features (width of them)."""
    inputs, x = pixels_and_marks(width)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="sign-reader")


VOTE = "landmark_vote"
"""The name of the layer that reads the marks alone in a model with a landmark vote."""


def with_landmark_vote(model: keras.Model, kernel: np.ndarray, bias: np.ndarray, weight: float) -> keras.Model:
    """A trained model that reads marks, its answer averaged with a readout of the marks alone (a Dense layer of
    this kernel (k, units) and bias, sigmoid for one unit, else softmax), the readout weighing weight and the model
    1 - weight, on the photos where a face or hand was found (the marks' last column is 1); where none was found,
    the model's own answer."""
    image = keras.Input(shape=model.inputs[0].shape[1:], name="image")
    marks = keras.Input(shape=model.inputs[1].shape[1:], name="marks")
    answer = model([image, marks])
    units = answer.shape[-1]
    vote = layers.Dense(units, activation="sigmoid" if units == 1 else "softmax", name=VOTE)(marks)
    found = layers.Dense(units, use_bias=False, trainable=False, name="found")(marks)  # the last column, repeated
    gap = layers.Rescaling(weight)(layers.Subtract()([vote, answer]))  # answer + weight (vote - answer)
    outputs = layers.Add()([answer, layers.Multiply()([found, gap])])
    voting = keras.Model([image, marks], outputs, name=model.name)
    voting.get_layer(VOTE).set_weights([kernel, bias])
    picks = np.zeros((marks.shape[-1], units), dtype=np.float32)
    picks[-1] = 1.0
    voting.get_layer("found").set_weights([picks])
    return voting


def without_vote(model: keras.Model) -> keras.Model:
    """The network inside a model with a landmark vote (same weights); any other model as it is."""
    if VOTE not in [layer.name for layer in model.layers]:
        return model
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))
