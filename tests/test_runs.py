"""Run folders read through one Run type: old and new config.json files, settings refused by name, the command
line's options matched to TrainConfig's fields, and no reader of a run's files outside the runs package."""

import re
from dataclasses import fields
from pathlib import Path

import pytest

from cnnapp.cli.model_cmds import train
from cnnapp.errors import CnnappError
from cnnapp.models.catalog import RECIPES
from cnnapp.runs import RECIPE_ONLY, TrainConfig, read_run, write_json

from clirun import assert_one_line_error, cnnapp

SRC = Path(__file__).resolve().parents[1] / "src" / "cnnapp"

OLD_CONFIG = {
    "model": "signs",
    "parameters": 1310,
    "data": {"name": "sign-digits", "source": "/data/signs", "fingerprint": "abc", "class_names": ["0", "1", "2"]},
    "split": {"described": "stratified split, seed 7", "seed": 7, "fractions": [0.7, 0.15, 0.15], "groups": None},
    "hyperparameters": {"epochs": 3, "batch_size": 32, "learning_rate": 0.01, "seed": 7, "augment": False},
    "seed": 7,
    "created": "2026-01-02T03:04:05+00:00",
}
"""A config.json as cnnapp wrote it before mix, marks, most_per_source and a single seed."""


def run_folder(folder: Path, config: dict, metrics: dict | None = None) -> Path:
    folder.mkdir()
    write_json(folder / "config.json", config)
    write_json(folder / "metrics.json", metrics or {"test_accuracy": 0.5, "epochs_run": 3, "train_seconds": 2.0})
    (folder / "model.keras").write_bytes(b"")
    return folder


def test_an_old_run_reads_with_its_settings_and_one_seed(tmp_path):
    run = read_run(run_folder(tmp_path / "old", OLD_CONFIG))
    assert (run.model, run.class_names, run.seed, run.data.name, run.data_names) == (
        "signs",
        ["0", "1", "2"],
        7,
        "sign-digits",
        ["sign-digits"],
    )
    assert run.train_config == TrainConfig(3, 32, 0.01, 7)
    assert (run.view.crop, run.view.colour, run.view.marks, run.mix, run.leaks_action) == (
        "none",
        "colour",
        "none",
        "size",
        "drop",
    )
    assert run.split.fractions == [0.7, 0.15, 0.15] and run.split.test_indices is None
    assert (run.test_accuracy, run.training.epochs_run, run.provenance.created) == (0.5, 3, OLD_CONFIG["created"])


def test_a_run_records_its_settings_whole_and_reads_them_back(tmp_path):
    settings = TrainConfig.from_recipe("smile-gate", 5, epochs=2)
    config = {**OLD_CONFIG, "model": "smile-gate", "hyperparameters": {**settings.record(), "optimizer": "adam"}}
    del config["seed"]
    run = read_run(run_folder(tmp_path / "new", config))
    assert run.train_config == settings and run.seed == 5
    assert (settings.crop, settings.marks, settings.most_per_source) == ("face", "face", 4000)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"schedule": "warm"}, "schedule 'warm'"),
        ({"mix": "even"}, "mix 'even'"),
        ({"epochs": 0}, "epochs 0"),
        ({"learning_rate": -1}, "learning_rate -1"),
        ({"vote_weight": 1.5}, "vote_weight 1.5"),
        ({"warmup": 3}, "hyperparameters warmup"),
    ],
)
def test_settings_a_version_does_not_know_are_refused_by_name(tmp_path, change, named):
    config = {**OLD_CONFIG, "hyperparameters": {**OLD_CONFIG["hyperparameters"], **change}}
    run = read_run(run_folder(tmp_path / "run", config))
    with pytest.raises(CnnappError) as refused:
        run.train_config.record()
    assert str(refused.value).startswith(str(tmp_path / "run" / "config.json")) and named in str(refused.value)


def test_a_view_this_version_does_not_know_is_refused_when_the_run_is_read(tmp_path):
    config = {**OLD_CONFIG, "hyperparameters": {**OLD_CONFIG["hyperparameters"], "marks": "ears"}}
    with pytest.raises(CnnappError, match="marks 'ears' is not known to this version"):
        read_run(run_folder(tmp_path / "run", config))


def test_a_run_trains_behind_its_recipe_s_augmentation_or_the_one_chosen():
    light = TrainConfig.from_recipe("sign-net")
    assert light.augmentation == "light" and light.changes("sign-net") == "light"
    assert TrainConfig.from_recipe("sign-net", augmentation="hands").changes("sign-net") == "hands"
    assert TrainConfig.from_recipe("sign-net", augment=False).changes("sign-net") is None
    before = TrainConfig(epochs=1, batch_size=8, learning_rate=0.01, seed=1, augment=True)  # recorded before the kind
    assert before.changes("smile-net") == "faces"
    with pytest.raises(CnnappError, match="augmentation 'ears': not known to this version"):
        TrainConfig.from_recipe("sign-net", augmentation="ears")


def test_every_setting_is_an_option_of_train_or_chosen_by_the_recipe_alone():
    options = {param.name for param in train.params}
    settings = {f.name for f in fields(TrainConfig)}
    assert settings - set(RECIPE_ONLY) <= options
    assert not set(RECIPE_ONLY) & options
    assert all(hasattr(recipe, name) for recipe in RECIPES.values() for name in RECIPE_ONLY)


def test_train_config_takes_nothing_but_out_and_resume(tmp_path):
    run = run_folder(tmp_path / "run", OLD_CONFIG)
    given = cnnapp("train", "signs", "--config", str(run / "config.json"), "--epochs", "2")
    assert_one_line_error(given, "--config", "drop MODEL, --epochs")
    assert_one_line_error(cnnapp("train", "--config", str(run / "metrics.json")), "--config", "config.json")
    assert_one_line_error(cnnapp("train"), "MODEL")


READS = re.compile(r"""config\[|config\.get\(|metrics\[|metrics\.get\(|"(config|metrics)\.json\"""")
"""How a module would read a run's files itself: by their names or by indexing what they hold."""


def test_no_module_outside_runs_reads_a_run_s_files():
    readers = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        if "runs" not in path.relative_to(SRC).parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if READS.search(line)
    ]
    assert readers == []
