"""Evaluation protocols over several trainings: stratified k-fold and repeated seeds, as mean and std."""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from cnnapp.data.datasets import Dataset
from cnnapp.data.splits import Split, fold_splits, split_dataset
from cnnapp.files import writing_folder
from cnnapp.runs import Result, TrainConfig, read_run, write_json
from cnnapp.training.fit import train_run
from cnnapp.training.warm import check_start

Plan = list[tuple[str, Split, TrainConfig]]  # (member name, its split, its settings) for each training


def summarise(members: dict[str, Result]) -> dict:
    """Mean and sample standard deviation of test accuracy and loss over member runs."""
    accuracy = np.array([m.accuracy for m in members.values()])
    loss = np.array([m.loss for m in members.values()])
    spread = (lambda v: float(v.std(ddof=1))) if len(members) > 1 else (lambda v: 0.0)
    return {
        "accuracy_mean": float(accuracy.mean()),
        "accuracy_std": spread(accuracy),
        "loss_mean": float(loss.mean()),
        "loss_std": spread(loss),
        "train_seconds_mean": float(np.mean([m.training["train_seconds"] for m in members.values()])),
        "n": len(members),
        "members": {
            name: {k: m.metrics()[k] for k in ("test_accuracy", "test_loss", "n_test", "train_seconds")}
            for name, m in members.items()
        },
    }


def run_group(
    model: str,
    dataset: Dataset,
    plan: Plan,
    out: Path,
    protocol: dict,
    verbose: int,
    report: Callable[[str, Result], None],
    resume: bool = False,
) -> dict:
    """Train one run per (name, split, settings) into out/<name>; out/summary.json holds mean and std.

    out appears only when every run is done; with resume, the runs a stopped group finished are kept and the
    one it was training continues."""
    for _, split, settings in plan:
        if settings.init_from:
            check_start(settings.init_from, model, dataset, split)
    members = {}
    with writing_folder(out, resumable=True, resume=resume) as folder:
        for name, split, settings in plan:
            if (folder / name).is_dir():
                members[name] = read_run(folder / name).result
            else:
                members[name] = train_run(model, dataset, split, settings, folder / name, verbose, resume=resume)
            report(name, members[name])
        summary = {"model": model, "data": dataset.name, "protocol": protocol, **summarise(members)}
        write_json(folder / "summary.json", summary)
    return summary


def cross_validation_plan(
    dataset: Dataset, folds: int, seeds: list[int], settings_for: Callable[[int], TrainConfig], groups: str | None
) -> Plan:
    """One member per fold and seed: each seed draws its own folds and its own initial weights."""
    return [
        (f"seed-{seed}-fold-{number}", split, settings_for(seed))
        for seed in seeds
        for number, split in enumerate(fold_splits(dataset, folds, seed, groups=groups), start=1)
    ]


def seeds_plan(
    dataset: Dataset, seeds: list[int], settings_for: Callable[[int], TrainConfig], groups: str | None
) -> Plan:
    """One member per seed: each seed draws its own held-out split and its own initial weights."""
    return [(f"seed-{seed}", split_dataset(dataset, seed, groups=groups), settings_for(seed)) for seed in seeds]


def what_varies(dataset: Dataset) -> str:
    """What differs between the seeds of a seeds protocol on this dataset, in words."""
    if dataset.train is not None:
        return "course files keep their own split, so the seeds vary the initial weights and the training order only"
    return "each seed draws its own split, initial weights and training order"
