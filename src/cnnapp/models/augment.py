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
    """Other hands, framings, light, cameras and skin. A sign shows the same digit whichever hand makes it
    (mirrored) and however the hand is held: turned up to 90 degrees either way, nearer or further, anywhere in the
    frame."""
    return [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.25),  # a quarter turn: up to 90 degrees either way
        layers.RandomZoom((-0.25, 0.35)),  # up to a quarter closer, a third further
        layers.RandomTranslation(0.2, 0.2),
        layers.RandomBrightness(0.3, value_range=UNIT),
        layers.RandomContrast(0.4, value_range=UNIT),
        layers.RandomSaturation(0.4, value_range=UNIT),
        layers.RandomHue(0.08, value_range=UNIT),
    ]


def faces() -> list[layers.Layer]:
    """Other faces, framings, light and cameras: a mirrored face smiles as much as the original. A face found small
    in a photo (a door camera's, about 22 pixels across) reaches the model enlarged and soft, so training faces are
    softened too, by up to a Gaussian of 2.5 pixels."""
    return [
        layers.RandomFlip("horizontal"),
        layers.RandomZoom((-0.1, 0.1)),
        layers.RandomTranslation(0.06, 0.06),
        layers.RandomBrightness(0.2, value_range=UNIT),
        layers.RandomContrast(0.3, value_range=UNIT),
        layers.RandomGaussianBlur(factor=(0.0, 1.0), kernel_size=9, sigma=(0.1, 2.5), value_range=UNIT),
    ]


def light() -> list[layers.Layer]:
    """Small changes that keep a photo near its training photos' framing and light: a mirror image, a turn of up to
    18 degrees, a tenth nearer or further or to the side, a little brightness and contrast. A network learns the
    photos of one collection within a few epochs behind these; for photos from elsewhere the other kinds teach more."""
    return [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.05),
        layers.RandomZoom(0.1),
        layers.RandomTranslation(0.1, 0.1),
        layers.RandomBrightness(0.2, value_range=UNIT),
        layers.RandomContrast(0.2, value_range=UNIT),
    ]


KINDS = {"hands": hands, "faces": faces, "light": light}


def augmentation(kind: str) -> keras.Sequential:
    """The random layers of one kind ("hands", "faces" or "light"), as one Sequential named 'augmentation'."""
    return keras.Sequential(KINDS[kind](), name=AUGMENTATION)


def augmented(model: keras.Model, kind: str) -> keras.Model:
    """model behind a layer of random changes of this kind on its pixels: input -> augmentation -> model. A model
    that also reads marks gets them unchanged (they do not depend on the changes made)."""
    image = keras.Input(shape=model.inputs[0].shape[1:], name="image")
    changed = augmentation(kind)(image)
    if len(model.inputs) == 1:
        return keras.Model(image, model(changed), name=f"augmented-{model.name}")
    marks = keras.Input(shape=model.inputs[1].shape[1:], name="marks")
    return keras.Model([image, marks], model([changed, marks]), name=f"augmented-{model.name}")


def without_augmentation(model: keras.Model) -> keras.Model:
    """The model that an augmented model wraps (same weights); any other model as it is."""
    names = [layer.name for layer in model.layers]
    return model.layers[-1] if AUGMENTATION in names else model
