"""Random changes to training photos, as Keras layers placed in front of a model.

Keras's random image layers change their input only when called with training=True (as fit does);
predict and evaluate call them with training=False, so they pass photos through unchanged. A model
called without a training flag, or exported, would still run them, so inference and export use the
model without them (see without_augmentation); train_run saves that one as the run's model.keras.
"""

import keras
from keras import layers

AUGMENTATION = "augmentation"

# Inputs are floats in [0, 1]: the colour layers are told so.
UNIT = (0.0, 1.0)


def hands() -> list[layers.Layer]:
    """Other hands, framings, light, cameras and skin: a mirrored hand shows the same digit (a left hand)."""
    return [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.06),  # up to about 22 degrees either way
        layers.RandomZoom((-0.2, 0.3)),  # closer or further framing
        layers.RandomTranslation(0.15, 0.15),
        layers.RandomBrightness(0.25, value_range=UNIT),
        layers.RandomContrast(0.35, value_range=UNIT),
        layers.RandomSaturation(0.4, value_range=UNIT),
        layers.RandomHue(0.08, value_range=UNIT),
    ]


def faces() -> list[layers.Layer]:
    """Other faces, framings, light and cameras: a mirrored face smiles as much as the original."""
    return [
        layers.RandomFlip("horizontal"),
        layers.RandomZoom((-0.1, 0.1)),
        layers.RandomTranslation(0.06, 0.06),
        layers.RandomBrightness(0.2, value_range=UNIT),
        layers.RandomContrast(0.3, value_range=UNIT),
    ]


KINDS = {"hands": hands, "faces": faces}


def augmentation(kind: str) -> keras.Sequential:
    """The random layers of one kind ("hands" or "faces"), as one Sequential named 'augmentation'."""
    return keras.Sequential(KINDS[kind](), name=AUGMENTATION)


def augmented(model: keras.Model, kind: str) -> keras.Model:
    """model behind a layer of random changes of this kind: three layers, input -> augmentation -> model."""
    inputs = keras.Input(shape=model.input_shape[1:])
    x = augmentation(kind)(inputs)
    return keras.Model(inputs, model(x), name=f"augmented-{model.name}")


def without_augmentation(model: keras.Model) -> keras.Model:
    """The model that an augmented model wraps (same weights); any other model as it is."""
    names = [layer.name for layer in model.layers]
    return model.layers[-1] if AUGMENTATION in names else model
