"""Evaluation protocols over several trainings: stratified k-fold and repeated seeds, as mean and std."""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from cnnapp.data.datasets import Dataset
from cnnapp.data.splits import Split, fold_splits, split_dataset
from cnnapp.training.fit import Settings, train_run
from cnnapp.training.rundir import write_json, writing_run

Plan = list[tuple[str, Split, Settings]]  # (member name, its split, its settings) for each training


def summarise(members: dict[str, dict]) -> dict:
    """Mean and sample standard deviation of test accuracy and loss over member runs."""
    accuracy = np.array([m["test_accuracy"] for m in members.values()])
    loss = np.array([m["test_loss"] for m in members.values()])
    spread = (lambda v: float(v.std(ddof=1))) if len(members) > 1 else (lambda v: 0.0)
    return {
        "accuracy_mean": float(accuracy.mean()),
        "accuracy_std": spread(accuracy),
        "loss_mean": float(loss.mean()),
        "loss_std": spread(loss),
        "train_seconds_mean": float(np.mean([m["train_seconds"] for m in members.values()])),
        "n": len(members),
        "members": {
            name: {k: m[k] for k in ("test_accuracy", "test_loss", "n_test", "train_seconds")}
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
    report: Callable[[str, dict], None],
) -> dict:
    """Train one run per (name, split, settings) into out/<name>; out/summary.json holds mean and std."""
    members = {}
    with writing_run(out) as folder:
        for name, split, settings in plan:
            members[name] = train_run(model, dataset, split, settings, folder / name, verbose)
            report(name, members[name])
        summary = {"model": model, "data": dataset.name, "protocol": protocol, **summarise(members)}
        write_json(folder / "summary.json", summary)
    return summary


def cross_validation_plan(
    dataset: Dataset, folds: int, seeds: list[int], settings_for: Callable[[int], Settings], groups: str | None
) -> Plan:
    """One member per fold and seed: each seed draws its own folds and its own initial weights."""
    return [
        (f"seed-{seed}-fold-{number}", split, settings_for(seed))
        for seed in seeds
        for number, split in enumerate(fold_splits(dataset, folds, seed, groups=groups), start=1)
    ]


def seeds_plan(dataset: Dataset, seeds: list[int], settings_for: Callable[[int], Settings], groups: str | None) -> Plan:
    """One member per seed: each seed draws its own held-out split and its own initial weights."""
    return [(f"seed-{seed}", split_dataset(dataset, seed, groups=groups), settings_for(seed)) for seed in seeds]
