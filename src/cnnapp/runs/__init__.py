"""Run folders: what a training writes (config.json, metrics.json, history.csv, the model) and the one Run type
through which evaluation, reports, prediction, the page, tuning and the listing read a run."""

from cnnapp.runs.config import RECIPE_ONLY, TrainConfig
from cnnapp.runs.folder import (
    CONFIG_FILE,
    KERAS_FILE,
    METRICS_FILE,
    ONNX_FILE,
    Run,
    check_config,
    read_history,
    read_json,
    read_run,
    run_folders,
    same_training,
    write_config,
    write_json,
    write_metrics,
    written_result,
)
from cnnapp.runs.records import DataRecord, Provenance, SplitRecord
from cnnapp.runs.results import Result, Training

__all__ = [
    "CONFIG_FILE",
    "KERAS_FILE",
    "METRICS_FILE",
    "ONNX_FILE",
    "RECIPE_ONLY",
    "DataRecord",
    "Provenance",
    "Result",
    "Run",
    "SplitRecord",
    "TrainConfig",
    "Training",
    "check_config",
    "read_history",
    "read_json",
    "read_run",
    "run_folders",
    "same_training",
    "write_config",
    "write_json",
    "write_metrics",
    "written_result",
]
