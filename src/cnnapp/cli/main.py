"""The `cnnapp` command."""

import click

from cnnapp.cli.adapt_cmds import adapt
from cnnapp.cli.app import App
from cnnapp.cli.data_cmds import data
from cnnapp.cli.demo import demo
from cnnapp.cli.model_cmds import evaluate, summary_cmd, train
from cnnapp.cli.predict_cmds import export, predict
from cnnapp.cli.protocol_cmds import cv, seeds
from cnnapp.cli.report_cmds import report, runs, show
from cnnapp.cli.serve_cmds import serve
from cnnapp.cli.tune_cmds import tune


@click.group(cls=App, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cnnapp")
def cli() -> None:
    """Build, train, check and use small convolutional networks on 64x64 photos.

    Datasets are read from the data directory: $CNNAPP_DATA, else ./datasets. `cnnapp COMMAND --help` tells more.

    \b
    Exit codes:
      0 success, 1 something unexpected, 2 bad usage or data,
      3 an architecture check found differences, 130 interrupted (Ctrl-C)

    \b
    Examples:
      cnnapp data get sign-digits smiles       # download into ./datasets
      cnnapp demo                              # the course's models, end to end
      cnnapp predict runs/demo/happy face.jpg  # smiling or not
      cnnapp serve runs/demo/happy runs/demo/signs
    """


App.sections = [
    ("Data", ["data", "show"]),
    ("Train", ["demo", "summary", "train", "cv", "seeds", "tune", "adapt"]),
    ("Check", ["evaluate", "report", "runs"]),
    ("Use and serve", ["export", "predict", "serve"]),
]
for command in (
    data,
    summary_cmd,
    train,
    evaluate,
    demo,
    cv,
    seeds,
    tune,
    export,
    predict,
    serve,
    show,
    report,
    runs,
    adapt,
):
    cli.add_command(command)


def main() -> None:
    """The console script's entry point."""
    cli()
