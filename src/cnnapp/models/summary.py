"""The course's architecture check: a model as one row per layer, compared with the expected rows."""

import keras
from keras import layers


def layer_row(layer: keras.layers.Layer) -> list:
    """[class name, output shape, parameter count] and the settings that matter for this layer type."""
    shape = tuple(layer.output.shape)
    row = [type(layer).__name__, [shape] if isinstance(layer, layers.InputLayer) else shape, layer.count_params()]
    if isinstance(layer, layers.Conv2D):
        row += [layer.padding, layer.activation.__name__, type(layer.kernel_initializer).__name__]
    elif isinstance(layer, layers.MaxPooling2D):
        row += [tuple(layer.pool_size), tuple(layer.strides), layer.padding]
    elif isinstance(layer, layers.ZeroPadding2D):
        row += [tuple(tuple(side) for side in layer.padding)]
    elif isinstance(layer, layers.Dense):
        row += [layer.activation.__name__]
    elif isinstance(layer, layers.Dropout):
        row += [layer.rate]
    return row


def summary(model: keras.Model) -> list[list]:
    """One row per layer of model.layers, in order."""
    return [layer_row(layer) for layer in model.layers]


def parameter_counts(model: keras.Model) -> tuple[int, int, int]:
    """Total, trainable and non-trainable parameter counts."""
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    frozen = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return trainable + frozen, trainable, frozen


def comparator(actual: list[list], expected: list[list]) -> list[str]:
    """Every difference between two row lists, one sentence each; an empty list when they agree."""
    problems = []
    if len(actual) != len(expected):
        problems.append(f"the model has {len(actual)} layers, expected {len(expected)}")
    for i, (got, want) in enumerate(zip(actual, expected, strict=False)):
        if got != want:
            problems.append(f"layer {i} ({want[0]}): expected {want}, got {got}")
    return problems


def verdict(problems: list[str]) -> str:
    """The comparator's outcome as text: 'All checks passed.' or the differences, one a line."""
    return "\n".join(problems) if problems else "All checks passed."
