"""`cnnapp summary`, `cnnapp train` and `cnnapp evaluate`."""

import json
from datetime import datetime
from pathlib import Path

import click

from cnnapp.cli.app import EXIT_CHECK_FAILED, POSITIVE, SEED, keras_quietly, progress_verbosity
from cnnapp.data.datasets import Dataset, load_dataset, parse_classes, select_classes
from cnnapp.errors import CnnappError


def chosen_data(name: str, classes: str | None) -> Dataset:
    """A dataset by name or path, restricted to --classes when given."""
    dataset = load_dataset(name)
    return select_classes(dataset, parse_classes(classes)) if classes else dataset


def architecture_check(name: str):
    """A model built by name, its rows, and the comparator's differences from its expected rows (if any)."""
    from cnnapp.models.catalog import build_model, recipe
    from cnnapp.models.summary import comparator, summary

    chosen = recipe(name)
    model = build_model(name, [str(i) for i in range(2 if chosen.binary else 6)])
    rows = summary(model)
    return model, rows, comparator(rows, chosen.expected_rows) if chosen.expected_rows else []


@click.command("summary")
@click.argument("model")
def summary_cmd(model: str) -> None:
    """A model's layers as rows, then the check against the course's expected rows (happy, signs).

    Exit code 3 when the check finds differences.

    \b
    Example:
      cnnapp summary happy
    """
    keras_quietly()
    from cnnapp.models.catalog import recipe
    from cnnapp.models.summary import parameter_counts, verdict

    built, rows, problems = architecture_check(model)
    for row in rows:
        click.echo(row)
    total, trainable, frozen = parameter_counts(built)
    click.echo(f"{total:,} parameters ({trainable:,} trainable, {frozen:,} non-trainable)")
    if recipe(model).expected_rows is None:
        click.echo(f"Nothing to check: {model} has no expected rows (happy and signs do).")
        return
    click.echo(verdict(problems))
    if problems:
        raise SystemExit(EXIT_CHECK_FAILED)


def default_out(model: str, data: str) -> Path:
    """runs/<model>-<data>-<date-time>: where a training writes unless told."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{model}-{Path(data).name}-{stamp}"


RECIPE_OPTIONS = [
    click.option(
        "--crop",
        type=click.Choice(["none", "face"]),
        help="What the model sees of a photo: the whole photo, or the face found in it (the whole photo when none "
        "is found), in training and in every later use of the run. Default: the model's protocol.",
    ),
    click.option(
        "--colour",
        type=click.Choice(["colour", "grey", "equalised"]),
        help="The photo's colours, its grey levels, or its grey levels spread evenly from black to white (equalised), "
        "in training and later. Default: the model's protocol.",
    ),
    click.option(
        "--balance/--no-balance",
        default=None,
        help="Weigh the classes' training photos so that each class counts the same, however many photos it has "
        "(a model that should not lean towards the commoner class of its training data). Default: the model's "
        "protocol.",
    ),
]
"""What the model sees of a photo and how its classes weigh: part of a run's recipe, used in every later use."""

TRAINING_OPTIONS = [
    click.argument("model"),
    click.option("--data", "data_name", required=True, help="A dataset name (see `cnnapp data list`) or a path."),
    click.option("--classes", help="Classes to keep, e.g. 0-5 or 'not smiling,smiling'."),
    click.option("--epochs", type=click.IntRange(min=1), help="Default: the model's protocol."),
    click.option("--batch-size", type=click.IntRange(min=1), help="Default: the model's protocol."),
    click.option("--learning-rate", type=POSITIVE, help="Default: the model's."),
    click.option(
        "--augment/--no-augment",
        default=None,
        help="Random shifts, turns, zooms, flips and light changes in training. Default: the model's protocol.",
    ),
    *RECIPE_OPTIONS,
    click.option(
        "--init-from",
        type=click.Path(path_type=Path),
        help="A run of the same model to start from: every layer whose shape matches, the classifier only if "
        "its classes are these.",
    ),
    click.option(
        "--groups",
        metavar="PATTERN",
        help="Keep groups of photos (e.g. one person's) on one side of every split: photos whose file names give "
        r"the same first (...) of this regular expression are one group, e.g. 'IMG_(\d+)\d' for sign-digits.",
    ),
    click.option("--out", type=click.Path(path_type=Path), help="Where to write. Default: under runs/, named by time."),
    click.option(
        "--resume",
        is_flag=True,
        help="Continue the training that was stopped (killed, Ctrl-C) while writing --out, from its last finished "
        "epoch; the same command and settings as before.",
    ),
]


def with_options(options: list):
    """A decorator giving a command these click arguments and options, in this order."""

    def add(command):
        for option in reversed(options):
            command = option(command)
        return command

    return add


training_options = with_options(TRAINING_OPTIONS)
"""The options every training command takes: model, data, classes, hyperparameters, start, groups, output."""


def prepared(
    model: str, data_name: str, classes: str | None, groups: str | None, out: Path, init_from: Path | None
) -> Dataset:
    """The chosen data, checked with its groups, the output folder and the starting run before Keras is imported."""
    dataset = chosen_data(data_name, classes)
    if groups:
        from cnnapp.data.splits import group_ids

        group_ids(dataset, groups)
    if out.exists():
        raise CnnappError(f"{out}: already exists; choose another --out or remove it")
    if init_from:
        from cnnapp.training.rundir import read_run

        read_run(init_from)
    keras_quietly()
    from cnnapp.models.catalog import check_classes

    check_classes(model, dataset.class_names)
    return dataset


def settings_for(model: str, seed: int, options: dict):
    """The model's protocol with the given options in place of its defaults."""
    from cnnapp.training.fit import default_settings

    init_from = options["init_from"]
    return default_settings(
        model,
        seed,
        epochs=options["epochs"],
        batch_size=options["batch_size"],
        learning_rate=options["learning_rate"],
        augment=options["augment"],
        crop=options["crop"],
        colour=options["colour"],
        balance=options["balance"],
        init_from=str(init_from) if init_from else None,
    )


@click.command()
@training_options
@click.option("--seed", type=SEED, default=1, show_default=True, help="Seeds the split, the weights and the shuffling.")
def train(
    model: str,
    data_name: str,
    classes: str | None,
    groups: str | None,
    out: Path | None,
    resume: bool,
    seed: int,
    **options,
) -> None:
    """Train MODEL (happy, signs, smile-net, sign-net) on a dataset and write a run folder.

    \b
    Example:
      cnnapp train signs --data sign-digits --classes 0-5 --epochs 20 --out runs/signs-20
      cnnapp train smile-net --data smiles --out runs/smiles
      cnnapp train sign-net --data sign-digits --classes 0-5 --groups 'IMG_(\\d+)\\d'
      cnnapp train sign-net --data sign-digits --out runs/digits --resume   # after a stop
    """
    if resume and out is None:
        raise CnnappError("--resume needs the --out of the stopped training")
    out = out or default_out(model, data_name)
    dataset = prepared(model, data_name, classes, groups, out, options["init_from"])
    from cnnapp.data.splits import split_dataset
    from cnnapp.training.fit import train_run

    settings = settings_for(model, seed, options)
    split = split_dataset(dataset, seed, groups=groups)
    if len(split.train) == 0:
        raise CnnappError(f"{dataset.source}: has no training images (only a test file)")
    click.echo(
        f"training {model} on {dataset.name}: {len(split.train)} train, {len(split.val)} validation, "
        f"{len(split.test)} test ({split.described})"
    )
    result = train_run(model, dataset, split, settings, out, progress_verbosity(), resume=resume)
    click.echo(
        f"test accuracy {result.accuracy:.4f}, loss {result.loss:.4f} "
        f"on {result.n} images, {result.training['train_seconds']:.0f} s"
    )
    click.echo(f"run folder: {out}")


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--data", "data_name", required=True, help="A dataset name or path with classes the run knows.")
@click.option(
    "--variants",
    is_flag=True,
    help="Score the same photos mirrored, turned (up to 90 degrees either way), rescaled and shifted too, one "
    "figure per change, and write them into the run folder as variants.json.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def evaluate(run: Path, data_name: str, variants: bool, as_json: bool) -> None:
    """Evaluate a saved run on a dataset: exactly its test images when the run trained on this data (refused
    when they cannot be found again), a course pair's test file, else all of it.

    \b
    Example:
      cnnapp evaluate runs/demo/signs --data sign-digits --json
      cnnapp evaluate runs/demo/signs --data sign-digits --variants
    """
    from cnnapp.training.rundir import read_run

    read_run(run)
    dataset = load_dataset(data_name)
    keras_quietly()
    if variants:
        report_variants(run, dataset, as_json)
        return
    from cnnapp.training.reuse import evaluate_run

    result = evaluate_run(run, dataset)
    if as_json:
        keys = ("accuracy", "loss", "n", "per_class_accuracy", "confusion_matrix", "class_names")
        click.echo(json.dumps({k: getattr(result, k) for k in keys} | {"evaluated_on": result.images}))
        return
    click.echo(f"{run} on {result.images}")
    click.echo(f"  accuracy {result.accuracy:.4f}  loss {result.loss:.4f}  n {result.n}")
    for name, value in result.per_class_accuracy.items():
        click.echo(f"  {name:<14} {'-' if value is None else f'{value:.4f}'}")


def report_variants(run: Path, dataset: Dataset, as_json: bool) -> None:
    """Score a run on its evaluation photos changed each way, print the figures and write them into the run."""
    from cnnapp.training.variants import evaluate_variants, record_variants

    robustness = evaluate_variants(run, dataset)
    path = record_variants(run, robustness)
    if as_json:
        click.echo(json.dumps(robustness.as_json()))
        return
    n = robustness.scored[0][1].n
    click.echo(f"{run} on {robustness.images}: {n} real photos, each changed as named")
    width = max(len(variant.name) for variant, _ in robustness.scored)
    click.echo(f"  {'variant':<{width}}  accuracy    loss")
    for variant, result in robustness.scored:
        click.echo(f"  {variant.name:<{width}}  {result.accuracy:8.4f}  {result.loss:6.4f}")
    worst, lowest = robustness.worst
    click.echo(f"lowest: {lowest.accuracy:.4f} ({worst.name})")
    click.echo(f"written to {path}")
