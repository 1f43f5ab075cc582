"""`cnnapp serve`: trained runs behind a web page and an HTTP API."""

import re
import socket
from pathlib import Path

import click

from cnnapp.cli import lazy
from cnnapp.cli.app import POSITIVE, Command
from cnnapp.data.faces import detector
from cnnapp.errors import CnnappError
from cnnapp.runs import ONNX_FILE, read_run
from cnnapp.web.served import load_served, split_spec


def export_missing(specs: tuple[str, ...]) -> None:
    """Export model.onnx into every run that lacks it, saying so, once every run has been read."""
    for run in [read_run(split_spec(spec)[1]) for spec in specs]:
        if not run.onnx_file.is_file():
            click.echo(f"{run.path}: no {ONNX_FILE} yet; exporting it first (as `cnnapp export` does)", err=True)
            path, difference = lazy.export_onnx(run.path)
            click.echo(f"wrote {path}, within {difference:.1e} of the Keras model", err=True)


WILDCARDS = ("0.0.0.0", "::")
"""--host values that listen on every address rather than name one."""
HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+\]?")
"""What an --allowed-host may be: a DNS name or an IP address, without scheme, port or path."""


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


@click.command(cls=Command, short_help="Serve runs as a web page and an HTTP API.")
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
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name to answer besides localhost, 127.0.0.1, ::1 and --host (repeatable); others get 400.",
)
@click.option(
    "--workspace",
    type=click.Path(path_type=Path),
    default=Path("workspace"),
    show_default=True,
    help="Folder of the page's teach sessions: their photos and the runs adapted from them.",
)
def serve(
    runs: tuple[str, ...],
    host: str,
    port: int,
    max_photo_mb: float,
    max_photos: int,
    allowed_hosts: tuple[str, ...],
    workspace: Path,
) -> None:
    """Serve RUNS: a web page at / to drop photos or use the webcam, a JSON API under /api, its docs at /docs.

    The page also teaches a served run classes of your own: name them, give each a few photos (webcam bursts or
    files) and train; the new run answers in the page at once. Each page's photos and runs are kept apart under
    --workspace.

    Each run is served under its folder's name, or NAME=RUN names it. Predictions run with ONNX Runtime: a run
    without model.onnx has it exported first. Stop with Ctrl-C.

    \b
    Example:
      cnnapp serve runs/demo/happy runs/demo/signs
      cnnapp serve door=runs/demo/happy --host 0.0.0.0 --port 8080 --allowed-host door.local
      curl -F photos=@face.jpg http://127.0.0.1:8000/api/models/door/predict
    """
    for name in allowed_hosts:
        if not HOST_NAME.fullmatch(name):
            raise CnnappError(f"--allowed-host {name}: not a host name or IP address (give no scheme, port or path)")
    if workspace.exists() and not workspace.is_dir():
        raise CnnappError(f"--workspace {workspace}: not a folder")
    export_missing(runs)
    models = load_served(list(runs))
    gates = [name for name, model in models.items() if model.predictor.run.model == "smile-gate"]
    models = {
        name: models[name] for name in [*gates, *(n for n in models if n not in gates)]
    }  # the page opens on the first
    if any("face" in (model.predictor.view.crop, model.predictor.view.marks) for model in models.values()):
        detector()  # loaded now rather than at the first photo
    hosts = (*lazy.LOCAL_HOSTS, *([] if host in WILDCARDS else [host]), *allowed_hosts)
    limits = lazy.Limits(photo_bytes=int(max_photo_mb * 1024 * 1024), photos=max_photos)
    app = lazy.create_app(models, limits, hosts, workspace)
    sock = listening_socket(host, port)
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    click.echo(f"serving {', '.join(models)} at http://{shown}:{sock.getsockname()[1]}/ (API docs at /docs)", err=True)
    lazy.Server(lazy.Config(app, http=lazy.HeaderDeadline, log_level="warning")).run(sockets=[sock])
