"""Batch normalisation that trains through TensorFlow's fused kernel: Keras's layer, with the same weights and
the same arithmetic, in fewer passes over the activations.

Keras 3 normalises a training batch with separate operations (the batch's mean and variance, then subtract,
scale and shift), each a pass over the activations forwards and again backwards; on a CPU those passes cost
happy's training step about as much as its convolution. TensorFlow's fused kernel does the same in one pass
each way. Models are trained with this layer and saved with Keras's own (see keras_batch_norm), so a run's
model.keras needs nothing but Keras.
"""

import keras
import tensorflow as tf
from keras import layers


@keras.saving.register_keras_serializable(package="cnnapp")
class BatchNormalization(layers.BatchNormalization):
    """keras.layers.BatchNormalization whose training pass on channels-last images runs the fused kernel;
    every other call is Keras's own."""

    def call(self, inputs, training=None, mask=None):
        fusable = len(inputs.shape) == 4 and self.axis in (-1, 3) and self.center and self.scale and not self.renorm
        if not (training and self.trainable and fusable and mask is None):
            return super().call(inputs, training=training, mask=mask)
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, epsilon=self.epsilon, is_training=True
        )[:3]
        count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], variance.dtype)
        variance = variance * (count - 1.0) / count  # the kernel returns the unbiased variance, Keras keeps the other
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs


def _with(model: keras.Model, kind: type, other: type) -> keras.Model:
    """model with each batch normalisation layer of class other rebuilt as kind, all weights kept."""

    def rebuilt(layer: layers.Layer) -> layers.Layer:
        chosen = kind if type(layer) is other else type(layer)
        return chosen.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=rebuilt)
    copy.set_weights(model.get_weights())
    return copy


def fused_batch_norm(model: keras.Model) -> keras.Model:
    """model, with the same weights, training its batch normalisation through the fused kernel."""
    return _with(model, BatchNormalization, layers.BatchNormalization)


def keras_batch_norm(model: keras.Model) -> keras.Model:
    """model, with the same weights, with Keras's own batch normalisation layers: what a run saves."""
    return _with(model, layers.BatchNormalization, BatchNormalization)
