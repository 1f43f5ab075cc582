"""`cnnapp serve`: trained runs behind a web page and an HTTP API."""

import socket

import click

from cnnapp.cli.app import POSITIVE, keras_quietly
from cnnapp.errors import CnnappError


def export_missing(specs: tuple[str, ...]) -> None:
    """Export model.onnx into every run that lacks it, saying so."""
    from cnnapp.inference.predictor import ONNX_FILE
    from cnnapp.training.rundir import read_run
    from cnnapp.web.served import split_spec

    for spec in specs:
        run = read_run(split_spec(spec)[1])
        if not (run.path / ONNX_FILE).is_file():
            click.echo(f"{run.path}: no {ONNX_FILE} yet; exporting it first (as `cnnapp export` does)", err=True)
            keras_quietly()
            from cnnapp.inference.export import export_onnx

            path, difference = export_onnx(run.path)
            click.echo(f"wrote {path}, within {difference:.1e} of the Keras model", err=True)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port; CnnappError when it cannot be had (the port is taken, say)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
    except OSError as error:
        sock.close()
        raise CnnappError(f"{host}:{port}: cannot listen there ({error.strerror or error})") from None
    return sock


@click.command()
@click.argument("runs", nargs=-1, required=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 for the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--max-photo-mb",
    type=POSITIVE,
    default=10,
    show_default=True,
    help="Largest photo accepted (413 beyond).",
)
@click.option(
    "--max-photos", type=click.IntRange(min=1), default=64, show_default=True, help="Most photos in one request."
)
def serve(runs: tuple[str, ...], host: str, port: int, max_photo_mb: float, max_photos: int) -> None:
    """Serve RUNS: a web page at / to drop photos or use the webcam, a JSON API under /api, its docs at /docs.

    Each run is served under its folder's name, or NAME=RUN names it. Predictions run with ONNX Runtime: a run
    without model.onnx has it exported first. Stop with Ctrl-C.

    \b
    Example:
      cnnapp serve runs/demo/happy runs/demo/signs
      cnnapp serve door=runs/demo/happy --host 0.0.0.0 --port 8080
      curl -F photos=@face.jpg http://127.0.0.1:8000/api/models/door/predict
    """
    export_missing(runs)
    import uvicorn

    from cnnapp.web.app import Limits, create_app
    from cnnapp.web.served import load_served

    models = load_served(list(runs))
    if any(model.predictor.crop == "face" for model in models.values()):
        keras_quietly()  # TensorFlow runs the face detector
        from cnnapp.data.faces import detector

        detector()  # loaded now rather than at the first photo
    app = create_app(models, Limits(photo_bytes=int(max_photo_mb * 1024 * 1024), photos=max_photos))
    sock = listening_socket(host, port)
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    click.echo(f"serving {', '.join(models)} at http://{shown}:{sock.getsockname()[1]}/ (API docs at /docs)", err=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
