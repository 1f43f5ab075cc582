"""`cnnapp cv` and `cnnapp seeds`: a model judged over several trainings, as mean and std."""

from datetime import datetime
from pathlib import Path

import click

from cnnapp.cli.app import keras_quietly, progress_verbosity
from cnnapp.cli.model_cmds import chosen_data
from cnnapp.data.datasets import parse_classes
from cnnapp.errors import CnnappError


def group_out(kind: str, model: str, data: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{kind}-{model}-{Path(data).name}-{stamp}"


def print_member(name: str, metrics: dict) -> None:
    click.echo(
        f"{name}: test accuracy {metrics['test_accuracy']:.4f} on {metrics['n_test']}, {metrics['train_seconds']:.0f} s"
    )


def print_summary(summary: dict, out: Path) -> None:
    click.echo(
        f"{summary['model']} on {summary['data']}, {summary['n']} runs: "
        f"accuracy {summary['accuracy_mean']:.4f} ± {summary['accuracy_std']:.4f}, "
        f"loss {summary['loss_mean']:.4f} ± {summary['loss_std']:.4f}, "
        f"{summary['train_seconds_mean']:.0f} s a run"
    )
    click.echo(f"runs and summary.json: {out}")


common = [
    click.argument("model"),
    click.option("--data", "data_name", required=True, help="A dataset name (see `cnnapp data list`) or a path."),
    click.option("--classes", help="Classes to keep, e.g. 0-5."),
    click.option("--epochs", type=click.IntRange(min=1), help="Default: the model's protocol."),
    click.option("--batch-size", type=click.IntRange(min=1), help="Default: the model's protocol."),
    click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), help="Default: the model's."),
    click.option(
        "--out", type=click.Path(path_type=Path), help="The folder of runs. Default: runs/KIND-MODEL-DATA-TIME."
    ),
]


def with_common(command):
    for option in reversed(common):
        command = option(command)
    return command


@click.command()
@with_common
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Seeds the folds, the weights and the shuffling.")
def cv(model, data_name, classes, epochs, batch_size, learning_rate, out, folds, seed) -> None:
    """Stratified k-fold cross-validation of MODEL on a dataset: one run per fold, then mean ± std.

    Every image takes part (a course pair's train and test files alike); in each fold, 15% of the
    training part is held back for validation.

    \b
    Example:
      cnnapp cv happy --data happy-house --folds 5
    """
    dataset = chosen_data(data_name, classes)
    out = out or group_out("cv", model, data_name)
    if out.exists():
        raise CnnappError(f"{out}: already exists; choose another --out or remove it")
    keras_quietly()
    from cnnapp.models.catalog import check_classes
    from cnnapp.training.fit import default_settings
    from cnnapp.training.protocols import cross_validation_plan, run_group

    check_classes(model, dataset.class_names)
    settings = default_settings(model, seed, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate)
    plan = cross_validation_plan(dataset, folds, settings)
    protocol = {"kind": "cross-validation", "folds": folds, "seed": seed}
    summary = run_group(model, dataset, plan, out, protocol, progress_verbosity(), print_member)
    print_summary(summary, out)


@click.command()
@with_common
@click.option("--seeds", "seed_text", default="1-3", show_default=True, help="Seeds, e.g. 1-3 or 1,5,9.")
def seeds(model, data_name, classes, epochs, batch_size, learning_rate, out, seed_text) -> None:
    """Train MODEL once per seed on the held-out protocol (each seed its own split), then mean ± std.

    \b
    Example:
      cnnapp seeds signs --data sign-digits --classes 0-5 --seeds 1-3
    """
    chosen = parse_classes(seed_text)
    if not all(s.lstrip("-").isdigit() for s in chosen):
        raise CnnappError(f"--seeds {seed_text}: seeds are whole numbers, e.g. 1-3 or 1,5,9")
    dataset = chosen_data(data_name, classes)
    out = out or group_out("seeds", model, data_name)
    if out.exists():
        raise CnnappError(f"{out}: already exists; choose another --out or remove it")
    keras_quietly()
    from cnnapp.models.catalog import check_classes
    from cnnapp.training.fit import default_settings
    from cnnapp.training.protocols import run_group, seeds_plan

    check_classes(model, dataset.class_names)
    numbers = [int(s) for s in chosen]
    plan = seeds_plan(
        dataset,
        numbers,
        lambda seed: default_settings(model, seed, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate),
    )
    protocol = {"kind": "seeds", "seeds": numbers}
    summary = run_group(model, dataset, plan, out, protocol, progress_verbosity(), print_member)
    print_summary(summary, out)
