"""`cnnapp export` and `cnnapp predict`: a trained run put to use on new photos."""

import json
import sys
from pathlib import Path

import click

from cnnapp.cli import lazy
from cnnapp.cli.app import EXIT_BAD_INPUT, Command
from cnnapp.errors import printable
from cnnapp.inference.photos import find_photos, read_photos
from cnnapp.inference.predictor import load
from cnnapp.runs import read_run


@click.command(cls=Command, short_help="Write a run's model as ONNX, so predict and serve skip TensorFlow.")
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--format", "file_format", type=click.Choice(["onnx"]), default="onnx", show_default=True, help="The file written."
)
def export(run: Path, file_format: str) -> None:
    """Write RUN's model as RUN/model.onnx, so that `cnnapp predict` runs it with ONNX Runtime, without TensorFlow.

    The exported model is checked against the Keras model before it replaces any earlier model.onnx.

    \b
    Example:
      cnnapp export runs/demo/signs
    """
    read_run(run)
    path, difference = lazy.export_onnx(run)
    click.echo(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB), within {difference:.1e} of the Keras model")


@click.command(cls=Command, short_help="Say which class each photo shows, with its probability.")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per photo and line, every class's probability.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=64, show_default=True, help="Photos decoded and run at once."
)
def predict(run: Path, paths: tuple[Path, ...], as_json: bool, batch_size: int) -> None:
    """Say which class each photo shows, one line per photo: path, label and its probability, tab-separated.

    PATHS are photos of any size (JPEG, PNG, BMP, GIF) or folders, searched recursively. A run that trained on
    face crops looks for the face in each photo first (`"face": true` or `false` in the JSON; no face found: the
    whole photo). RUN/model.onnx is used
    with ONNX Runtime when `cnnapp export` has written it, else RUN/model.keras with Keras. Progress goes to stderr
    when there are many photos.

    A photo that cannot be read is reported on stderr, one line each, and the other photos are still answered.
    Exit code: 0 when every photo was answered, 2 when any could not be read (or a folder held none).

    \b
    Example:
      cnnapp predict runs/demo/signs hand.jpg more-hands/
      cnnapp predict runs/demo/happy faces/ --json > answers.jsonl
    """
    files, problems = find_photos(paths)
    if files:
        predictor = load(run)
        hidden = len(files) <= batch_size or sys.stdout.isatty()  # answers on a terminal are progress enough
        with click.progressbar(
            length=len(files), label=f"predicting {len(files)} photos", file=sys.stderr, hidden=hidden
        ) as bar:
            for start in range(0, len(files), batch_size):
                batch = files[start : start + batch_size]
                read, photos, failed = read_photos(batch, predictor.decode)
                problems += failed
                for path, prediction in zip(read, predictor.predict(photos), strict=True):
                    if as_json:
                        click.echo(json.dumps({"path": str(path), **prediction.answer()}))
                    else:
                        click.echo(
                            f"{printable(str(path))}\t{printable(prediction.label)}\t{prediction.probability:.4f}"
                        )
                bar.update(len(batch))
    for problem in problems:
        click.echo(f"cnnapp: error: {printable(problem)}", err=True)
    if problems:
        sys.exit(EXIT_BAD_INPUT)
