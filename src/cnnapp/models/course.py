"""The course's two models: the smile gate (Sequential API) and the hand-sign reader (Functional API)."""

import keras
from keras import layers

from cnnapp.settings import IMAGE_SIZE

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 3)


def happy_model() -> keras.Sequential:
    """Smiling or not, as one sigmoid unit: a straight stack of layers."""
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            # Pad 3 pixels a side so that the 7x7 convolution keeps the 64x64 size: 70x70x3.
            layers.ZeroPadding2D(padding=3),
            # 32 filters of 7x7, no activation yet: 64x64x32.
            layers.Conv2D(32, (7, 7), strides=(1, 1)),
            layers.BatchNormalization(axis=3),
            layers.ReLU(),
            # Halve each side: 32x32x32.
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="happy",
    )


def convolutional_model(input_shape: tuple[int, int, int], classes: int = 6) -> keras.Model:
    """Which hand sign, as a softmax over classes: layers called on tensors."""
    inputs = keras.Input(shape=input_shape)
    # 8 filters of 4x4, then an 8x8 max-pool: 64x64x8 -> 8x8x8.
    x = layers.Conv2D(8, (4, 4), strides=(1, 1), padding="same")(inputs)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(pool_size=(8, 8), strides=(8, 8), padding="same")(x)
    # 16 filters of 2x2, then a 4x4 max-pool: 8x8x16 -> 2x2x16.
    x = layers.Conv2D(16, (2, 2), strides=(1, 1), padding="same")(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(pool_size=(4, 4), strides=(4, 4), padding="same")(x)
    # 64 features -> one probability per class.
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="signs")
