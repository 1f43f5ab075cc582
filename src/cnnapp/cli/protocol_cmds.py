"""`cnnapp cv` and `cnnapp seeds`: a model judged over several trainings, as mean and std."""

from pathlib import Path

import click

from cnnapp.cli import lazy
from cnnapp.cli.app import Command
from cnnapp.cli.model_cmds import PROTOCOLS, default_out, prepared, recipe_data, settings_for, training_options
from cnnapp.data.datasets import parse_classes
from cnnapp.errors import CnnappError
from cnnapp.models.catalog import recipe
from cnnapp.runs import Result


def print_member(name: str, result: Result) -> None:
    click.echo(f"{name}: test accuracy {result.accuracy:.4f} on {result.n}, {result.training['train_seconds']:.0f} s")


def print_summary(summary: dict, out: Path) -> None:
    click.echo(
        f"{summary['model']} on {summary['data']}, {summary['n']} runs: "
        f"accuracy {summary['accuracy_mean']:.4f} ± {summary['accuracy_std']:.4f}, "
        f"loss {summary['loss_mean']:.4f} ± {summary['loss_std']:.4f}, "
        f"{summary['train_seconds_mean']:.0f} s a run"
    )
    click.echo(f"runs and summary.json: {out}")


def seed_list(text: str) -> list[int]:
    """'1-3' -> [1, 2, 3]; '1,5,9' -> [1, 5, 9]."""
    chosen = parse_classes(text, "seeds")
    if not all(s.isdigit() and int(s) < 2**32 for s in chosen):
        raise CnnappError(f"--seeds {text}: seeds are whole numbers from 0 to 2**32-1, e.g. 1-3 or 1,5,9")
    return [int(s) for s in chosen]


@click.command(cls=Command, short_help="Cross-validate a model: one run per fold, then mean ± std.", epilog=PROTOCOLS)
@training_options
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True)
@click.option("--seeds", "seed_text", default="1", show_default=True, help="One k-fold per seed, e.g. 1-3.")
def cv(model, data_name, classes, groups, out, resume, folds, seed_text, **options) -> None:
    """Stratified k-fold cross-validation of MODEL on a dataset: one run per fold (and seed), then mean ± std.

    Every image takes part (a course pair's train and test files alike); in each fold, 15% of the
    training part is held back for validation.

    \b
    Example:
      cnnapp cv happy --data happy-house --folds 5 --seeds 1-3
      cnnapp cv smile-net --data happy-house --init-from runs/smiles --seeds 1-3
    """
    numbers = seed_list(seed_text)
    if resume and out is None:
        raise CnnappError("--resume needs the --out of the stopped cross-validation")
    data_name, classes, groups = recipe_data(model, data_name, classes, groups)
    out = out or default_out(f"cv-{model}", data_name)
    dataset = prepared(model, data_name, classes, groups, out, options["init_from"], recipe(model).most_per_source)
    plan = lazy.cross_validation_plan(dataset, folds, numbers, lambda seed: settings_for(model, seed, options), groups)
    protocol = {"kind": "cross-validation", "folds": folds, "seeds": numbers, "groups": groups}
    summary = lazy.run_group(model, dataset, plan, out, protocol, True, print_member, resume)
    print_summary(summary, out)


@click.command(cls=Command, short_help="Train a model once per seed, then mean ± std.", epilog=PROTOCOLS)
@training_options
@click.option("--seeds", "seed_text", default="1-3", show_default=True, help="Seeds, e.g. 1-3 or 1,5,9.")
def seeds(model, data_name, classes, groups, out, resume, seed_text, **options) -> None:
    """Train MODEL once per seed on the held-out protocol, then mean ± std.

    On image folders each seed draws its own split; course files keep their own split, so there the seeds
    vary only the initial weights and the training order.

    \b
    Example:
      cnnapp seeds signs --data sign-digits --classes 0-5 --seeds 1-3
    """
    numbers = seed_list(seed_text)
    if resume and out is None:
        raise CnnappError("--resume needs the --out of the stopped seeds run")
    data_name, classes, groups = recipe_data(model, data_name, classes, groups)
    out = out or default_out(f"seeds-{model}", data_name)
    dataset = prepared(model, data_name, classes, groups, out, options["init_from"], recipe(model).most_per_source)
    plan = lazy.seeds_plan(dataset, numbers, lambda seed: settings_for(model, seed, options), groups)
    protocol = {"kind": "seeds", "seeds": numbers, "groups": groups, "varies": lazy.what_varies(dataset)}
    click.echo(f"{dataset.name}: {protocol['varies']}")
    summary = lazy.run_group(model, dataset, plan, out, protocol, True, print_member, resume)
    print_summary(summary, out)
