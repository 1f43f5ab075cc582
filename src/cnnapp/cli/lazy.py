"""The functions the commands take from modules that are slow to import (TensorFlow, Keras, KerasTuner,
scikit-learn, matplotlib, requests, FastAPI), imported on first use: `lazy.train_run(...)`.

So `--help` answers at once and every command checks its arguments before TensorFlow loads.
"""

import importlib

SLOW = {
    "cnnapp.data.fetch": ("content_checksum", "fetch_dataset", "verify"),
    "cnnapp.data.leaks": ("without_leaks",),
    "cnnapp.data.splits": ("group_ids", "split_dataset"),
    "cnnapp.inference.export": ("export_onnx",),
    "cnnapp.models.summary": ("comparator", "parameter_counts", "summary", "verdict"),
    "cnnapp.reports.figures": ("save_png",),
    "cnnapp.reports.gallery": ("every_class", "one_class", "one_image"),
    "cnnapp.reports.report": ("write_report",),
    "cnnapp.training.adapt": ("adapt_run",),
    "cnnapp.training.chief": ("bound_server", "parse_address", "wait_for_chief"),
    "cnnapp.training.fit": ("train_run", "use_threads"),
    "cnnapp.training.protocols": ("cross_validation_plan", "run_group", "seeds_plan", "what_varies"),
    "cnnapp.evaluation.reuse": ("evaluate_run",),
    "cnnapp.training.tune": ("search", "work"),
    "cnnapp.evaluation.variants": ("evaluate_variants", "record_variants"),
    "cnnapp.web.app": ("Limits", "create_app"),
    "cnnapp.web.guards": ("LOCAL_HOSTS", "HeaderDeadline"),
    "uvicorn": ("Config", "Server"),
}
"""Each slow module and the names the commands use from it."""

MODULE_OF = {name: module for module, names in SLOW.items() for name in names}


def __getattr__(name: str):
    """The named function or class, its module imported the first time."""
    if name not in MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(MODULE_OF[name]), name)
