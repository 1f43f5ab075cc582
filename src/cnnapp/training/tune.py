"""A hyperparameter search with KerasTuner over a model's own space (Space, beside its recipe).

Each trial trains its settings on the split's training part and is judged on the validation part, by the
validation accuracy of the epoch a run keeps (the one with the lowest validation loss); the test part is never
seen. The best trial's settings are then trained by train_run into a normal run folder, best/.
"""

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import keras_tuner
import numpy as np
from keras_tuner.engine.base_tuner import BaseTuner
from keras_tuner.engine.trial import Trial, TrialStatus
from keras_tuner.src.distribute import oracle_client

from cnnapp.data.datasets import Dataset
from cnnapp.data.splits import Split
from cnnapp.errors import CnnappError
from cnnapp.files import writing_folder
from cnnapp.models.catalog import recipe
from cnnapp.runs import Result, TrainConfig, read_json, write_json
from cnnapp.training.chief import HEARTBEAT, Address, serve
from cnnapp.training.fit import train_run, validated
from cnnapp.training.resume import BACKUP
from cnnapp.training.trials import plot_trials, write_trials

OBJECTIVE = keras_tuner.Objective("val_accuracy", direction="max")
SETTINGS = ("learning_rate", "batch_size", "epochs", "augment", "schedule")
"""The settings a search chooses, as named in TrainConfig and in the trials' hyperparameters."""
KEPT = ("crop", "colour", "balance")
"""The settings every trial of a search shares: the model's recipe's, or the ones given."""
MEASURES = ("val_accuracy", "val_loss", "kept_epoch", "seconds")
"""What a trial reports: its kept epoch's validation figures, that epoch, and the trial's seconds."""
ASK_AGAIN = 1.0
"""Seconds a worker told to wait (a trial runs elsewhere and may come back) waits before it asks again."""

Report = Callable[[str], None]


def search_space(
    model_name: str, dataset: Dataset, split: Split, seed: int, fixed: dict, hyperband: bool
) -> keras_tuner.HyperParameters:
    """The model's space with the fixed settings (those not None) taken out of it, and what every process of a
    search must share: model, data, classes, split and seed. Hyperband chooses the epochs itself."""
    space = recipe(model_name).space
    hp = keras_tuner.HyperParameters()
    hp.Fixed("model", model_name)
    hp.Fixed("data", f"{dataset.fingerprint}: {', '.join(dataset.class_names)}")
    hp.Fixed("split", split.described)
    hp.Fixed("seed", seed)
    for name in KEPT:
        hp.Fixed(name, getattr(recipe(model_name), name) if fixed.get(name) is None else fixed[name])
    choices = {"batch_size": space.batch_size, "augment": space.augment, "schedule": space.schedule}
    if not hyperband:
        choices["epochs"] = space.epochs
    for name in SETTINGS:
        if fixed.get(name) is not None:
            hp.Fixed(name, fixed[name])
        elif name == "learning_rate":
            hp.Float(name, *space.learning_rate, sampling="log")
        elif name in choices:
            hp.Choice(name, list(choices[name]))
    return hp


def settings_of(values: dict) -> TrainConfig:
    """The training settings of a trial's hyperparameter values."""
    return TrainConfig(
        epochs=int(values.get("tuner/epochs", values.get("epochs"))),
        batch_size=int(values["batch_size"]),
        learning_rate=float(values["learning_rate"]),
        seed=int(values["seed"]),
        augment=bool(values["augment"]),
        schedule=str(values["schedule"]),
        crop=str(values["crop"]),
        colour=str(values["colour"]),
        balance=bool(values["balance"]),
    )


def described(settings: TrainConfig) -> str:
    """TrainConfig in words, for one line."""
    return (
        f"learning rate {settings.learning_rate:.3g}, batch {settings.batch_size}, {settings.epochs} epochs, "
        f"augmentation {'on' if settings.augment else 'off'}, {settings.schedule} schedule"
    )


class SearchRules:
    """What cnnapp adds to a KerasTuner oracle: a deadline; a worker that asks while the last trials run elsewhere
    is told to wait (one may fail, or its worker die, and come back); the trial of a worker that falls silent goes
    to another, and what that worker says afterwards is ignored; one line for each trial that ends; its files
    written whole, so that a search killed at any moment continues."""

    def __init__(self, *args, deadline: float | None, report: Report, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.verbose = 0  # cnnapp reports each trial in one line instead
        self.deadline = deadline
        self.report = report
        self.heard: dict[str, float] = {}  # tuner id -> time.monotonic() of its last request

    def save(self) -> None:
        write_json(Path(self._get_oracle_fname()), self.get_state())

    def _save_trial(self, trial: Trial) -> None:
        write_json(Path(self._get_trial_dir(trial.trial_id)) / "trial.json", trial.get_state())

    def owner(self, trial_id: str) -> str | None:
        """The tuner that runs this trial now, if any."""
        return next((tuner for tuner, trial in self.ongoing_trials.items() if trial.trial_id == trial_id), None)

    @keras_tuner.synchronized
    def create_trial(self, tuner_id):
        self.heard[tuner_id] = time.monotonic()
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.tuner_ids.discard(tuner_id)
            return Trial(self.get_space(), status=TrialStatus.STOPPED)
        trial = super().create_trial(tuner_id)
        if trial.status == TrialStatus.STOPPED and self.ongoing_trials:
            self.tuner_ids.add(tuner_id)
            return Trial(self.get_space(), status=TrialStatus.IDLE)
        return trial

    @keras_tuner.synchronized
    def get_trial(self, trial_id):
        if self.owner(trial_id):
            self.heard[self.owner(trial_id)] = time.monotonic()
        return super().get_trial(trial_id)

    @keras_tuner.synchronized
    def update_trial(self, trial_id, metrics, step=0):
        if self.owner(trial_id) is None:
            return self.trials[trial_id]
        return super().update_trial(trial_id, metrics, step=step)

    @keras_tuner.synchronized
    def end_trial(self, trial):
        tuner_id = self.owner(trial.trial_id)
        if tuner_id is None:
            return
        self.heard[tuner_id] = time.monotonic()
        super().end_trial(trial)
        self.save()  # KerasTuner saved while the trial was still ongoing: a search killed now would run it again
        self.report(ended(self.trials[trial.trial_id], tuner_id))

    @keras_tuner.synchronized
    def finished(self) -> bool:
        """Whether every trial the search may run has been run (as when a chief continues a finished search)."""
        done = self.max_trials is not None and len(self.trials) >= self.max_trials
        return done and not self.ongoing_trials and not self._retry_queue

    @keras_tuner.synchronized
    def drop_silent(self, seconds: float) -> list[tuple[str, str | None]]:
        """Forget the workers not heard from for seconds, putting back the trials they ran; (worker, trial) each."""
        now = time.monotonic()
        dropped = []
        for tuner_id in [t for t in self.tuner_ids if now - self.heard.get(t, now) > seconds]:
            self.tuner_ids.discard(tuner_id)
            trial = self.ongoing_trials.pop(tuner_id, None)
            if trial is not None:
                self._retry_queue.append(trial.trial_id)
            dropped.append((tuner_id, trial.trial_id if trial else None))
        if dropped:
            self.save()
        return dropped


class RandomSearch(SearchRules, keras_tuner.oracles.RandomSearchOracle):
    """TrainConfig drawn at random from the space."""


class Bayesian(SearchRules, keras_tuner.oracles.BayesianOptimizationOracle):
    """TrainConfig chosen by a Gaussian process fitted to the trials so far."""


class Hyperband(SearchRules, keras_tuner.oracles.HyperbandOracle):
    """Many short trials, the best of them trained again for longer."""


def make_oracle(
    kind: str, space: keras_tuner.HyperParameters, trials: int, seed: int, deadline: float | None, report: Report
) -> SearchRules:
    """The oracle of a kind (random, bayesian, hyperband) that draws at most trials trials from space."""
    common = {"objective": OBJECTIVE, "hyperparameters": space, "seed": seed, "deadline": deadline, "report": report}
    if kind == "hyperband":
        most = space.values["epochs"] if "epochs" in space.values else max(recipe(space.values["model"]).space.epochs)
        oracle = Hyperband(max_epochs=most, **common)
        oracle.max_trials = trials
        return oracle
    return {"random": RandomSearch, "bayesian": Bayesian}[kind](max_trials=trials, **common)


def ended(trial: Trial, tuner_id: str) -> str:
    """One line on a trial that ended."""
    by = "" if tuner_id == "tuner0" else f" by {tuner_id}"
    if trial.status != TrialStatus.COMPLETED:
        cause = (trial.message or "").strip().splitlines()[-1:] or ["no message"]
        return f"trial {trial.trial_id}{by} {trial.status.lower()}: {cause[0]}"
    value = trial.metrics.get_last_value
    return (
        f"trial {trial.trial_id}{by}: validation accuracy {value('val_accuracy'):.4f} "
        f"(loss {value('val_loss'):.4f}, epoch {value('kept_epoch'):.0f}), {value('seconds'):.0f} s"
    )


class Trials(BaseTuner):
    """Runs the trials its oracle hands out, each in folder/trials/<id>, keeping only its history.csv; its own
    file and its oracle's written whole."""

    def __init__(
        self,
        oracle,
        folder: Path,
        model_name: str,
        dataset: Dataset,
        split: Split,
        report: Report,
        heartbeat: float | None = None,
        overwrite: bool = False,
    ) -> None:
        super().__init__(oracle, directory=str(folder), project_name="keras-tuner", overwrite=overwrite)
        self.trials_folder = folder / "trials"
        self.model_name, self.dataset, self.split = model_name, dataset, split
        self.report, self.heartbeat = report, heartbeat
        self.asked = False
        self.ran: list[str] = []

    def save(self) -> None:
        if not self._is_worker():
            self.oracle.save()
        write_json(Path(self._get_tuner_fname()), self.get_state())

    def pre_create_trial(self) -> None:
        if self.asked:  # told to wait for the last trials
            time.sleep(ASK_AGAIN)
        self.asked = True

    def on_trial_begin(self, trial: Trial) -> None:
        self.asked = False
        self.report(f"trial {trial.trial_id} begins: {described(settings_of(trial.hyperparameters.values))}")

    def run_trial(self, trial: Trial, *args, **kwargs) -> dict[str, float]:
        folder = self.trials_folder / trial.trial_id
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with self.in_touch(trial.trial_id):
            settings = settings_of(trial.hyperparameters.values)
            history = validated(self.model_name, self.dataset, self.split, settings, folder, f"trial {trial.trial_id}")
        for name in ("best.keras", "last.keras"):
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder / BACKUP, ignore_errors=True)
        self.ran.append(trial.trial_id)
        kept = int(np.argmin(history["val_loss"]))
        return {
            "val_accuracy": history["val_accuracy"][kept],
            "val_loss": history["val_loss"][kept],
            "kept_epoch": float(kept + 1),
            "seconds": round(time.perf_counter() - start, 2),
        }

    @contextmanager
    def in_touch(self, trial_id: str) -> Iterator[None]:
        """While the block runs, ask the chief about the trial every heartbeat seconds, as a sign of life."""
        if self.heartbeat is None:
            yield
            return
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.heartbeat):
                try:
                    self.oracle.get_trial(trial_id)
                except grpc.RpcError:
                    return

        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


def trial_rows(trials) -> list[dict]:
    """One row for each trial, in the order they were created: its id, status, settings and measures."""
    rows = []
    for trial in sorted(trials, key=lambda t: t.trial_id):
        settings = settings_of(trial.hyperparameters.values)
        measures = {name: trial.metrics.get_last_value(name) for name in MEASURES if trial.metrics.exists(name)}
        rows.append(
            {"trial": trial.trial_id, "status": trial.status, **{k: getattr(settings, k) for k in SETTINGS + KEPT}}
            | {name: measures.get(name) for name in MEASURES}
        )
    return rows


def same_search(folder: Path, description: dict) -> bool:
    """Whether folder holds a search begun with this description (False when it holds none yet); CnnappError when
    it holds another one."""
    path = folder / "search.json"
    if not path.is_file():
        write_json(path, description)
        return False
    before = read_json(path)
    differing = [key for key in description if key != "trials" and before.get(key) != description[key]]
    if differing:
        raise CnnappError(
            f"{path}: a stopped search with other {', '.join(differing)} is being continued there; rerun its own "
            "command, or remove that folder"
        )
    return True


def searchable(dataset: Dataset, split: Split) -> None:
    """Refuse a split whose validation part is its test part: a search would choose by the test images."""
    if split.validates_on_test:
        raise CnnappError(
            f"{dataset.source}: course files validate on their test file, so a search would choose by the test "
            "images; search on an image folder"
        )


def search(
    model_name: str,
    dataset: Dataset,
    split: Split,
    fixed: dict,
    trials: int,
    kind: str,
    out: Path,
    report: Report,
    max_minutes: float | None = None,
    server: grpc.Server | None = None,
) -> Result:
    """Search the model's space in this process, or with a server given, hand the trials out to workers through
    it; then train the best trial's settings into out/best. out holds search.json, trials.csv, search.png and the
    trials' histories; it appears when complete, and the same call again continues a search that was stopped.

    Returns the result of best/ on the test part.
    """
    searchable(dataset, split)
    seed = split.seed
    deadline = None if max_minutes is None else time.monotonic() + 60 * max_minutes
    with writing_folder(out, resumable=True, resume=True) as folder:
        space = search_space(model_name, dataset, split, seed, fixed, kind == "hyperband")
        description = {"model": model_name, "tuner": kind, "trials": trials, "space": space.get_config()}
        if same_search(folder, description):
            report(f"continuing the search stopped in {folder}")
        oracle = make_oracle(kind, space, trials, seed, deadline, report)
        tuner = Trials(oracle, folder, model_name, dataset, split, report)
        tuner.save()  # KerasTuner reloads a search only if its tuner's file is there, which it writes after a trial
        if server is None:
            tuner.search()
        else:
            serve(server, oracle, report)
        rows = trial_rows(oracle.trials.values())
        write_trials(rows, folder / "trials.csv")
        plot_trials(rows, folder / "search.png", f"{model_name} on {dataset.name}: {kind} search")
        done = [row for row in rows if row["status"] == TrialStatus.COMPLETED]
        if max_minutes is not None and len(done) < trials:
            report(f"{len(done)} of {trials} trials finished within `max_minutes` {max_minutes:g}")
        if not done:
            raise CnnappError(f"{out}: no trial finished; see {folder / 'trials.csv'}")
        best = max(done, key=lambda row: row["val_accuracy"])
        settings = settings_of({**best, "seed": seed})
        report(f"best: trial {best['trial']}, {described(settings)}: validation accuracy {best['val_accuracy']:.4f}")
        result = train_run(model_name, dataset, split, settings, folder / "best", verbose=0, resume=True)
    return result


def work(
    model_name: str,
    dataset: Dataset,
    split: Split,
    fixed: dict,
    kind: str,
    out: Path,
    chief: Address,
    tuner_id: str,
    wait: float,
    report: Report,
) -> list[str]:
    """Run the trials a chief hands out until it says the search is over, in out/trials/<id>; the trial ids run.

    Waits up to wait seconds whenever the chief does not answer; CnnappError after that, or when the chief
    searches another model, data, split or seed.
    """
    searchable(dataset, split)
    os.environ.update(
        KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=chief.host, KERASTUNER_ORACLE_PORT=str(chief.port)
    )
    oracle_client.TIMEOUT = wait  # KerasTuner's workers wait an hour for a chief that does not answer
    with writing_folder(out, resumable=True, resume=True) as folder:
        space = search_space(model_name, dataset, split, split.seed, fixed, kind == "hyperband")
        oracle = make_oracle(kind, space, 1, split.seed, None, report)
        tuner = Trials(oracle, folder, model_name, dataset, split, report, heartbeat=HEARTBEAT, overwrite=True)
        try:
            theirs = tuner.oracle.get_space().values
            for key in ("model", "data", "split", "seed", *KEPT):
                if theirs.get(key) != space.values[key]:
                    raise CnnappError(
                        f"`worker` {chief}: the chief searches with {key} {theirs.get(key)}, this worker has "
                        f"{space.values[key]}; give both the same model, data, classes, groups, seed, crop, colour "
                        "and balance",
                        parameter="worker",
                    )
            report(f"worker {tuner_id}: connected to the chief at {chief}")
            tuner.search()
        except grpc.RpcError as error:
            raise CnnappError(
                f"`worker` {chief}: the chief stopped answering ({error.code().name})", parameter="worker"
            ) from None
    return tuner.ran
