"""One short training of a model as `cnnapp train` does it, or with one change, timed epoch by epoch.

Run by `train_speed.py --compare` in a fresh process per training, so that changes read when TensorFlow starts
(its environment, its thread pools) apply. Trains on the first IMAGES training images of the seed's split
(validating on a quarter as many) through cnnapp's own fit, with its callbacks, and prints the process's CPU
seconds and the wall seconds of each epoch as JSON. VARIANT is one of VARIANTS; VALUE its number where it takes one.

    python benchmarks/train_variant.py '["happy", "smiles", null, "threads", "2/1", 3, 640, 1]'
"""

import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

VARIANTS = {
    "reference": "cnnapp's training as it is",
    "onednn-off": "TensorFlow's default kernels (TF_ENABLE_ONEDNN_OPTS=0)",
    "keras-batch-norm": "Keras's own batch normalisation layer instead of the fused kernel's",
    "no-determinism": "without tf.config.experimental.enable_op_determinism()",
    "threads": "VALUE intra-op/inter-op threads (tf.config.threading), e.g. threads=2/1",
    "batch": "training batch size VALUE",
    "val-batch": "validation batch size VALUE",
    "no-augment": "without the recipe's augmentation layers",
    "augment-map": "the augmentation as a parallel tf.data map instead of layers in the model",
    "tf-data": "a tf.data pipeline (cache, seeded shuffle, batch, prefetch) instead of NumPy arrays",
    "steps-per-execution": "VALUE steps in one call of the compiled training function",
    "xla": "compiled with XLA (jit_compile=True)",
}
ENVIRONMENT = {"onednn-off": {"TF_ENABLE_ONEDNN_OPTS": "0"}}


def main() -> None:
    name, data, classes, variant, value, epochs, images, seed = json.loads(sys.argv[1])
    import cnnapp  # noqa: F401, I001  (before TensorFlow: oneDNN kernels unless the environment says otherwise)
    import tensorflow as tf

    if variant == "threads":
        intra, inter = (int(v) for v in value.split("/"))
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    import keras

    from cnnapp.data.datasets import load_dataset, parse_classes, select_classes
    from cnnapp.data.splits import split_dataset
    from cnnapp.models import fused
    from cnnapp.models.augment import augmentation
    from cnnapp.models.catalog import build_model, recipe
    from cnnapp.training import fit as training

    dataset = load_dataset(data)
    dataset = select_classes(dataset, parse_classes(classes)) if classes else dataset
    split = split_dataset(dataset, seed)
    split = replace(split, train=split.train[:images], val=split.val[: max(images // 4, 1)])
    overrides = {"epochs": epochs, "batch_size": int(value) if variant == "batch" else None}
    settings = training.TrainConfig.from_recipe(name, seed, **overrides)
    if variant == "no-determinism":
        tf.config.experimental.enable_op_determinism = lambda: None
    training.seed_everything(seed)
    if variant == "keras-batch-norm":
        fused.fused_batch_norm = lambda model: model
    in_model = settings.augment and variant not in ("no-augment", "augment-map")
    model = build_model(name, dataset.class_names, settings.changes(name) if in_model else None)
    cpu, wall = [], []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.cpu, self.wall = time.process_time(), time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            cpu.append(time.process_time() - self.cpu)
            wall.append(time.perf_counter() - self.wall)

    compile_, fit_ = keras.Model.compile, keras.Model.fit

    def compile_variant(self, *args, **kwargs):
        if variant == "xla":
            kwargs["jit_compile"] = True
        if variant == "steps-per-execution":
            kwargs["steps_per_execution"] = int(value)
        return compile_(self, *args, **kwargs)

    def fit_variant(self, x, y, *, callbacks=(), batch_size=None, **kwargs):
        if variant == "val-batch":
            kwargs["validation_batch_size"] = int(value)
        if variant in ("tf-data", "augment-map"):
            pipeline = tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(len(x), seed=seed).batch(batch_size)
            if variant == "augment-map":
                layers = augmentation(recipe(name).augmentation)
                pipeline = pipeline.map(lambda a, b: (layers(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
            x, y, batch_size = pipeline.prefetch(tf.data.AUTOTUNE), None, None
        return fit_(self, x, y, callbacks=[*callbacks, Timer()], batch_size=batch_size, **kwargs)

    keras.Model.compile, keras.Model.fit = compile_variant, fit_variant
    with tempfile.TemporaryDirectory() as tmp:
        training.fit(model, recipe(name).binary, dataset, split, settings, Path(tmp), None)
    print(json.dumps({"cpu": cpu, "wall": wall, "images": len(split.train), "batch": settings.batch_size}))


if __name__ == "__main__":
    main()
