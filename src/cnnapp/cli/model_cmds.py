"""`cnnapp summary`, `cnnapp train` and `cnnapp evaluate`."""

import json
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path

import click
from click.core import ParameterSource

from cnnapp.cli import lazy
from cnnapp.cli.app import EXIT_CHECK_FAILED, POSITIVE, SEED, Command
from cnnapp.data.datasets import Dataset, load_dataset, mixed, parse_classes, sampled, select_classes
from cnnapp.data.views import CROPS
from cnnapp.errors import CnnappError
from cnnapp.models.catalog import AUGMENTATIONS, RECIPES, build_model, check_classes, recipe
from cnnapp.runs import CONFIG_FILE, TrainConfig, read_run


def protocol_help() -> str:
    """Each model's protocol, as help text: the settings it trains with wherever no option says otherwise."""
    lines = ["\b", "The model's protocol, what it trains with where no option says otherwise:"]
    for r in RECIPES.values():
        rate = f"learning rate {r.learning_rate:g}" + ("" if r.schedule == "constant" else f" ({r.schedule})")
        view = ("whole photo" if r.crop == "none" else f"{r.crop} crop") + f", {r.colour}"
        view += ", balanced" if r.balance else ""
        view += f", {r.marks} landmarks" if r.marks != "none" else ""
        augment = f"augmented ({r.augmentation})" if r.augment else "not augmented"
        lines.append(f"  {r.name:<11} {r.epochs} epochs, batch {r.batch_size}, {rate}, {augment}; {view}")
    return "\n".join(lines)


PROTOCOLS = protocol_help()


def data_names(text: str) -> list[str]:
    """The dataset names or paths of a --data value: one, or several separated by commas."""
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise CnnappError(f"--data {text}: an empty name between commas")
    return names


def chosen_data(text: str, classes: str | None, most: int | None = None) -> Dataset:
    """A dataset by name or path, or several mixed (comma-separated), restricted to --classes when given, each
    source drawn down to most photos when given."""
    wanted = parse_classes(classes) if classes else None
    datasets = [load_dataset(name) for name in data_names(text)]
    datasets = [select_classes(d, wanted) for d in datasets] if wanted else datasets
    datasets = [sampled(d, most) for d in datasets] if most else datasets
    return datasets[0] if len(datasets) == 1 else mixed(datasets)


def recipe_data(model: str, data_name: str | None, classes: str | None, groups: str | None) -> tuple[str, ...]:
    """--data, --classes and --groups, each the model's own where not given; CnnappError when neither names data."""
    chosen = recipe(model)
    if data_name is None and chosen.data is None:
        raise CnnappError(
            f"--data: needed for {model}, which has no sources of its own (smile-gate and sign-reader do)"
        )
    return data_name or chosen.data, classes or chosen.classes, groups or chosen.groups


def architecture_check(name: str):
    """A model built by name, its rows, and the comparator's differences from its expected rows (if any)."""
    chosen = recipe(name)
    model = build_model(name, [str(i) for i in range(2 if chosen.binary else 6)])
    rows = lazy.summary(model)
    return model, rows, lazy.comparator(rows, chosen.expected_rows) if chosen.expected_rows else []


@click.command("summary", cls=Command, short_help="A model's layers, checked against the course's rows (happy, signs).")
@click.argument("model")
def summary_cmd(model: str) -> None:
    """A model's layers as rows, then the check against the course's expected rows (happy, signs).

    Exit code 3 when the check finds differences.

    \b
    Example:
      cnnapp summary happy
    """
    recipe(model)
    built, rows, problems = architecture_check(model)
    for row in rows:
        click.echo(row)
    total, trainable, frozen = lazy.parameter_counts(built)
    click.echo(f"{total:,} parameters ({trainable:,} trainable, {frozen:,} non-trainable)")
    if recipe(model).expected_rows is None:
        click.echo(f"Nothing to check: {model} has no expected rows (happy and signs do).")
        return
    click.echo(lazy.verdict(problems))
    if problems:
        raise SystemExit(EXIT_CHECK_FAILED)


def default_out(model: str, data: str) -> Path:
    """runs/<model>-<data>-<date-time>: where a training writes unless told."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{model}-{Path(data).name}-{stamp}"


RECIPE_OPTIONS = [
    click.option(
        "--crop",
        type=click.Choice(CROPS),
        help="What the model sees of a photo: the whole photo, or the face or the hand found in it (the whole photo "
        "when none is found), in training and in every later use of the run. Default: the model's protocol.",
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
    click.option(
        "--data",
        "data_name",
        help="A dataset name (see `cnnapp data list`) or a path; several, comma-separated, train on all of them "
        "(the same classes each), each source split on its own. Default: the model's own sources (smile-gate, "
        "sign-reader; the others need it).",
    ),
    click.option("--classes", help="Classes to keep, e.g. 0-5 or 'not smiling,smiling'."),
    click.option("--epochs", type=click.IntRange(min=1), help="Default: the model's protocol."),
    click.option("--batch-size", type=click.IntRange(min=1), help="Default: the model's protocol."),
    click.option("--learning-rate", type=POSITIVE, help="Default: the model's."),
    click.option(
        "--augment/--no-augment",
        default=None,
        help="Random shifts, turns, zooms, flips and light changes in training. Default: the model's protocol.",
    ),
    click.option(
        "--augmentation",
        type=click.Choice(AUGMENTATIONS),
        help="Which changes: hands (turns up to 90 degrees, large shifts, colours), faces (small shifts, light, "
        "blur), light (turns up to 18 degrees, small shifts and light changes: learnt soonest). Default: the "
        "model's protocol.",
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
    model: str,
    data_name: str,
    classes: str | None,
    groups: str | None,
    out: Path,
    init_from: Path | str | None,
    most_per_source: int | None,
) -> Dataset:
    """The chosen data (each source drawn down to most_per_source photos, if given), checked with the model, its
    groups, the output folder and the starting run, before TensorFlow loads."""
    recipe(model)
    if out.exists():
        raise CnnappError(f"{out}: already exists; choose another --out or remove it")
    if init_from:
        read_run(init_from)
    dataset = chosen_data(data_name, classes, most_per_source)
    check_classes(model, dataset.class_names)
    if groups:
        lazy.group_ids(dataset, groups)
    return dataset


def settings_for(model: str, seed: int, options: dict) -> TrainConfig:
    """The model's protocol with the given options (those of TrainConfig's settings) in place of its defaults."""
    chosen = {f.name: options[f.name] for f in fields(TrainConfig) if f.name in options}
    if chosen["init_from"]:
        chosen["init_from"] = str(chosen["init_from"])
    return TrainConfig.from_recipe(model, seed, **chosen)


def given(ctx: click.Context, besides: tuple[str, ...]) -> list[str]:
    """The options and arguments of a command line that were given, as spelt there (--epochs, MODEL), but those
    named besides."""
    return [
        param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
        for param in ctx.command.params
        if param.name not in besides and ctx.get_parameter_source(param.name) != ParameterSource.DEFAULT
    ]


def rerun(config: Path) -> tuple[str, str, str, str | None, str, TrainConfig]:
    """What `train --config RUN/config.json` trains: the run's model, data, classes, groups, leak rule and
    settings (its seed with them)."""
    if config.name != CONFIG_FILE:
        raise CnnappError(f"--config {config}: expected a run's {CONFIG_FILE}")
    run = read_run(config.parent)
    data = ",".join(run.data_names)
    return run.model, data, ",".join(run.class_names), run.split.groups, run.leaks_action, run.train_config


@click.command(cls=Command, short_help="Train a model on a dataset into a run folder.", epilog=PROTOCOLS)
@with_options([click.argument("model", required=False), *TRAINING_OPTIONS[1:]])
@click.option("--seed", type=SEED, default=1, show_default=True, help="Seeds the split, the weights and the shuffling.")
@click.option(
    "--mix",
    type=click.Choice(["size", "balanced"]),
    default="size",
    show_default=True,
    help="With several sources: every photo weighs the same, so sources weigh by their size (size), or each "
    "source's photos together weigh the same in the loss (balanced, by sample weights).",
)
@click.option(
    "--leaks",
    type=click.Choice(["drop", "refuse"]),
    default="drop",
    show_default=True,
    help="Test photos that are also in training or validation, or repeat in the test (exact or near duplicates): "
    "take them out of the test, or refuse to train.",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    help="A run's config.json: train that run again (its model, data, classes, groups, seed and settings) into "
    "--out; no MODEL and no other option but --out and --resume.",
)
@click.pass_context
def train(
    ctx: click.Context,
    model: str | None,
    data_name: str,
    classes: str | None,
    groups: str | None,
    out: Path | None,
    resume: bool,
    seed: int,
    mix: str,
    leaks: str,
    config: Path | None,
    **options,
) -> None:
    """Train MODEL (happy, signs, smile-net, sign-net, smile-gate, sign-reader) on a dataset and write a run folder.

    \b
    Example:
      cnnapp train smile-gate --seed 1          # on every public face source
      cnnapp train sign-reader --seed 1         # on every public hand source
      cnnapp train signs --data sign-digits --classes 0-5 --epochs 20 --out runs/signs-20
      cnnapp train smile-net --data smiles --out runs/smiles
      cnnapp train sign-net --data sign-digits --classes 0-5 --groups 'IMG_(\\d+)\\d'
      cnnapp train sign-net --data sign-digits --out runs/digits --resume   # after a stop
      cnnapp train smile-net --data smiles,genki4k,celeba-10k,mtfl-net --mix balanced
      cnnapp train --config runs/smiles/config.json --out runs/smiles-again
    """
    if resume and out is None:
        raise CnnappError("--resume needs the --out of the stopped training")
    if config:
        others = given(ctx, besides=("config", "out", "resume"))
        if others:
            raise CnnappError(f"--config: trains the run as it was; drop {', '.join(others)}")
        model, data_name, classes, groups, leaks, settings = rerun(config)
    elif model is None:
        raise CnnappError("MODEL: name the model to train, or give --config RUN/config.json")
    else:
        data_name, classes, groups = recipe_data(model, data_name, classes, groups)
        settings = replace(settings_for(model, seed, options), mix=mix)
    out = out or default_out(model, data_name)
    dataset = prepared(model, data_name, classes, groups, out, settings.init_from, settings.most_per_source)
    split = lazy.split_dataset(dataset, settings.seed, groups=groups)
    if len(split.train) == 0:
        raise CnnappError(f"{dataset.source}: has no training images (only a test file)")
    split = lazy.without_leaks(dataset, split, leaks)
    echo_leaks(split.leaks)
    click.echo(
        f"training {model} on {dataset.name}: {len(split.train)} train, {len(split.val)} validation, "
        f"{len(split.test)} test ({split.described})"
    )
    result = lazy.train_run(model, dataset, split, settings, out, verbose=True, resume=resume)
    click.echo(
        f"test accuracy {result.accuracy:.4f}, loss {result.loss:.4f} "
        f"on {result.n} images, {result.training['train_seconds']:.0f} s"
    )
    for name, part in result.per_source.items():
        click.echo(f"  {name}: test accuracy {part.accuracy:.4f}, loss {part.loss:.4f} on {part.n} images")
    click.echo(f"run folder: {out}")


LEAKS_SHOWN = 20
"""Leaked test photos named on the console; config.json names them all."""


def echo_leaks(leaks: dict) -> None:
    """Say which test photos training has seen and that they left the test."""
    found = leaks["found"]
    click.echo(f"leak check ({leaks['rule']}): {len(found)} test photos dropped from the test")
    for leak in found[:LEAKS_SHOWN]:
        click.echo(f"  {leak['test']} = {leak['matches']} ({leak['in']}, {leak['bits']} bits apart)")
    if len(found) > LEAKS_SHOWN:
        click.echo(f"  and {len(found) - LEAKS_SHOWN} more (config.json names them all)")


@click.command(cls=Command, short_help="Test a run on a dataset: accuracy, loss and each class's accuracy.")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_name",
    help="A dataset name or path with classes the run knows; several, comma-separated, give a row each. "
    "Default: each source the run trained on.",
)
@click.option(
    "--variants",
    is_flag=True,
    help="Score the same photos mirrored, turned (up to 90 degrees either way), rescaled and shifted too, one "
    "figure per change, and write them into the run folder as variants.json.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of text: one object, or a list of one per dataset."
)
def evaluate(run: Path, data_name: str | None, variants: bool, as_json: bool) -> None:
    """Evaluate a saved run on datasets, one at a time: exactly its test images when the run trained on this data
    or mixed it in (refused when they cannot be found again), a course pair's test file, else all of it.

    \b
    Example:
      cnnapp evaluate runs/demo/signs --data sign-digits --json
      cnnapp evaluate runs/demo/signs --data sign-digits --variants
      cnnapp evaluate runs/mixed --data smiles,genki4k
      cnnapp evaluate runs/mixed   # on the test photos of each source it trained on
    """
    info = read_run(run)
    names = data_names(data_name) if data_name else [source.name for source in info.sources]
    if variants and len(names) > 1:
        raise CnnappError(f"--variants: scores one dataset at a time, not {len(names)} ({', '.join(names)})")
    datasets = [load_dataset(name) for name in names]
    if variants:
        report_variants(run, datasets[0], as_json)
        return
    results = [lazy.evaluate_run(run, dataset) for dataset in datasets]
    if as_json:
        keys = ("accuracy", "loss", "n", "per_class_accuracy", "confusion_matrix", "class_names")
        rows = [
            {k: getattr(r, k) for k in keys} | {"data": d.name, "evaluated_on": r.images}
            for r, d in zip(results, datasets, strict=True)
        ]
        click.echo(json.dumps(rows[0] if len(rows) == 1 else rows))
        return
    if len(results) == 1:
        result = results[0]
        click.echo(f"{run} on {result.images}")
        click.echo(f"  accuracy {result.accuracy:.4f}  loss {result.loss:.4f}  n {result.n}")
        for name, value in result.per_class_accuracy.items():
            click.echo(f"  {name:<14} {'-' if value is None else f'{value:.4f}'}")
        return
    width = max(len(d.name) for d in datasets)
    click.echo(f"{run}, one row per dataset:")
    click.echo(f"  {'data':<{width}}  accuracy    loss      n  images")
    for dataset, result in zip(datasets, results, strict=True):
        click.echo(
            f"  {dataset.name:<{width}}  {result.accuracy:8.4f}  {result.loss:6.4f}  {result.n:5d}  {result.images}"
        )


def report_variants(run: Path, dataset: Dataset, as_json: bool) -> None:
    """Score a run on its evaluation photos changed each way, print the figures and write them into the run."""
    robustness = lazy.evaluate_variants(run, dataset)
    path = lazy.record_variants(run, robustness)
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
