"""The page's teach view on the server: each page's session of named classes of photos, adapted from a served run
in a process of its own, the new runs answering that session only.

A session lives in the workspace as SESSION/photos/CLASS/*.jpg and SESSION/runs/N (a run folder with model.onnx);
its id, random and long, is all that gives access to it.
"""

import io
import multiprocessing
import re
import secrets
import shutil
import threading
import time
import zipfile
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from fastapi import HTTPException
from PIL import Image

from cnnapp import lazy
from cnnapp.data.datasets import load_dataset
from cnnapp.data.images import is_image_file
from cnnapp.errors import CnnappError
from cnnapp.extras import missing_extra
from cnnapp.files import writing_file
from cnnapp.inference import Predictor, load
from cnnapp.runs import ONNX_FILE
from cnnapp.web.served import ServedModel

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22}")
"""What secrets.token_urlsafe(16) gives: 128 random bits."""
CLASS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,31}")
"""What a class's name may be: it names a folder of the session."""
MAX_CLASSES = 10
"""Most classes a session may hold."""
CLASS_PHOTOS = 200
"""Most photos a class may hold."""
MIN_PHOTOS = 2
"""Photos a class needs before training, as `cnnapp adapt` asks: one to learn from, one to score, in every fold."""
PHOTO_SIDE = 512
"""Photos are kept at most this many pixels a side, as JPEG: a face or a hand is still found in them."""
SEED = 1
"""Seeds the cross-validation's folds of every adaptation, as `cnnapp adapt`'s default does."""
ONE_AT_A_TIME = threading.Lock()
"""One adaptation at a time on the server, whatever the session: the others wait their turn."""


@dataclass
class Job:
    """An adaptation of a session's photos, as the page follows it."""

    base: str
    run: str
    state: str = "waiting"  # waiting, running, done or failed
    message: str = "waiting for another training to finish"
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def describe(self) -> dict:
        seconds = round((self.ended or time.monotonic()) - self.started, 1)
        return {"base": self.base, "run": self.run, "state": self.state, "message": self.message, "seconds": seconds}


def adapt_job(base: str, photos: str, out: str, progress: Connection) -> None:
    """In a process of its own: the run at base adapted to the photos into out, with its model.onnx; what it is
    doing is sent on progress, and a CnnappError's line last when it fails."""
    try:
        dataset = load_dataset(photos)  # its errors come before TensorFlow loads
        progress.send(f"fitting a readout of the base's features to {len(dataset.y)} photos")
        result = lazy.adapt_run(base, dataset, Path(out), SEED)
        progress.send(f"cross-validated accuracy {result.accuracy:.1%} on {result.n} photos; writing {ONNX_FILE}")
        lazy.export_onnx(out)
    except ModuleNotFoundError as error:
        progress.send(f"error: {missing_extra(error, 'training from the page')}")
        raise SystemExit(2) from None
    except CnnappError as error:
        progress.send(f"error: {error}")
        raise SystemExit(2) from None


def saved_photo(image: Image.Image, path: Path) -> None:
    """A decoded photo written whole as a JPEG of at most PHOTO_SIDE pixels a side."""
    image = image.copy()
    image.thumbnail((PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS)
    with writing_file(path) as tmp:
        image.save(tmp, format="JPEG", quality=92)


def zipped(folder: Path, name: str) -> bytes:
    """A folder's files as a zip archive, under the folder name given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{name}/{path.relative_to(folder)}")
    return buffer.getvalue()


@dataclass
class Workspace:
    """The folder of every session's photos and runs, and the adaptations under way."""

    root: Path
    jobs: dict[str, Job] = field(default_factory=dict)  # session -> its latest adaptation
    loaded: dict[tuple[str, str], Predictor] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    processes: set = field(default_factory=set)  # the adaptations' processes running now

    def new_session(self) -> str:
        """A new, empty session's id."""
        session = secrets.token_urlsafe(16)
        try:
            (self.root / session / "photos").mkdir(parents=True)
        except OSError as error:
            raise HTTPException(500, f"the workspace {self.root} cannot be written ({error.strerror})") from None
        return session

    def folder(self, session: str) -> Path:
        """The session's folder; 404 when there is no such session."""
        if not SESSION_ID.fullmatch(session) or not (self.root / session).is_dir():
            raise HTTPException(404, "no such session; reload the page to start a new one")
        return self.root / session

    def counts(self, session: str) -> dict[str, int]:
        """Each class of the session and its number of photos, by name."""
        photos = self.folder(session) / "photos"
        classes = sorted(p for p in photos.iterdir() if p.is_dir())
        return {c.name: sum(1 for p in c.iterdir() if is_image_file(p)) for c in classes}

    def runs(self, session: str) -> list[str]:
        """The session's finished runs (those with their model.onnx), oldest first."""
        runs = self.folder(session) / "runs"
        done = [p.name for p in runs.iterdir() if (p / ONNX_FILE).is_file()] if runs.is_dir() else []
        return sorted(done, key=lambda name: int(name.rpartition("-")[2]))

    def run_folder(self, session: str, run: str) -> Path:
        """A finished run's folder; 404 when the session has no such run."""
        if run not in self.runs(session):
            raise HTTPException(404, f"no run named {run!r} in this session")
        return self.folder(session) / "runs" / run

    def state(self, session: str) -> dict:
        """What the page shows of a session: its classes, its runs and its latest adaptation."""
        job = self.jobs.get(session)
        return {
            "session": session,
            "classes": self.counts(session),
            "runs": self.runs(session),
            "job": job.describe() if job else None,
        }

    def class_folder(self, session: str, name: str) -> Path:
        """Where a class's photos go, checked: a valid name, and room for another class when it is new."""
        if not CLASS_NAME.fullmatch(name):
            rule = "1 to 32 letters, digits, spaces, '_' or '-', the first a letter or digit"
            raise HTTPException(400, f"class name {name!r}: use {rule}")
        counts = self.counts(session)
        if name not in counts and len(counts) >= MAX_CLASSES:
            raise HTTPException(413, f"class {name!r}: a session holds at most {MAX_CLASSES} classes")
        return self.folder(session) / "photos" / name

    def add_photos(self, session: str, name: str, images: list[Image.Image]) -> int:
        """The photos written into the class (made when new), all or none; its photo count after; 413 past
        CLASS_PHOTOS."""
        folder = self.class_folder(session, name)
        with self.lock:
            held = self.counts(session).get(name, 0)
            if held + len(images) > CLASS_PHOTOS:
                raise HTTPException(
                    413, f"class {name!r}: {held} photos held, {len(images)} more is over the limit of {CLASS_PHOTOS}"
                )
            paths = [folder / f"{secrets.token_hex(8)}.jpg" for _ in images]
            try:
                folder.mkdir(exist_ok=True)
                for image, path in zip(images, paths, strict=True):
                    saved_photo(image, path)
            except (OSError, CnnappError) as error:  # a full disk, say: none of the request's photos is kept
                for path in paths:
                    path.unlink(missing_ok=True)
                raise HTTPException(500, f"photos of {name!r} not kept: {error}") from None
        return held + len(images)

    def remove_class(self, session: str, name: str) -> None:
        """A class and its photos gone."""
        folder = self.class_folder(session, name)
        with self.lock:
            shutil.rmtree(folder, ignore_errors=True)

    def train(self, session: str, base: ServedModel) -> Job:
        """Start adapting base to the session's photos in the background; 409 while one is under way, 400 when the
        photos are not enough."""
        counts = self.counts(session)
        few = [f"{name} ({n})" for name, n in counts.items() if n < MIN_PHOTOS]
        if len(counts) < 2 or few:
            have = ", ".join(f"{name} ({n})" for name, n in counts.items()) or "none"
            raise HTTPException(
                400, f"training needs 2 classes or more of {MIN_PHOTOS} photos or more each; the classes: {have}"
            )
        with self.lock:
            job = self.jobs.get(session)
            if job and job.state in ("waiting", "running"):
                raise HTTPException(409, f"a training from {job.base} is under way; wait for it to finish")
            runs = self.folder(session) / "runs"
            taken = [int(p.name.rpartition("-")[2]) for p in runs.glob("taught-*")] if runs.is_dir() else []
            job = Job(base.name, f"taught-{max(taken, default=0) + 1}")
            self.jobs[session] = job
        folder = self.folder(session)
        out = folder / "runs" / job.run
        threading.Thread(target=self.run_job, args=(job, base, folder / "photos", out), daemon=True).start()
        return job

    def run_job(self, job: Job, base: ServedModel, photos: Path, out: Path) -> None:
        """Run the adaptation in its own process, after any other, following its progress into the job."""
        with ONE_AT_A_TIME:
            job.state, job.message = "running", f"starting from {base.name} (TensorFlow loads first)"
            context = multiprocessing.get_context("spawn")
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=adapt_job, args=(str(base.predictor.run.path), str(photos), str(out), sender), daemon=True
            )
            process.start()
            sender.close()  # the process holds its own end: the pipe ends when the process does
            self.processes.add(process)
            with receiver:
                while True:
                    try:
                        job.message = receiver.recv().replace(f"{photos.parent}/", "")  # no server paths
                    except EOFError:
                        break
            process.join()
            self.processes.discard(process)
        job.ended = time.monotonic()
        if process.exitcode == 0 and (out / ONNX_FILE).is_file():
            job.state, job.message = "done", f"{job.message.partition(';')[0]}; ready"
        else:
            job.state = "failed"
            if not job.message.startswith("error: "):
                job.message = f"error: the training stopped (exit code {process.exitcode})"

    def stop(self) -> None:
        """End the adaptations under way, as the server stops: their partial runs are left unfinished."""
        for process in list(self.processes):
            process.terminate()
            process.join(timeout=10)

    def predictor(self, session: str, run: str) -> Predictor:
        """A finished run of the session, loaded once with ONNX Runtime."""
        folder = self.run_folder(session, run)
        key = (session, run)
        if key not in self.loaded:
            self.loaded[key] = load(folder, threads=1)
        return self.loaded[key]

    def describe(self, session: str, run: str) -> dict:
        """What the page needs of a session's run to answer with it and offer its downloads."""
        predictor = self.predictor(session, run)
        where = f"/api/teach/{session}/runs/{run}"
        return {
            **ServedModel(run, predictor).describe(),
            "data": "your photos",
            "examples_credit": "",
            "accuracy_of": f"cross-validated on its {predictor.run.result.n} photos",
            "predict_url": f"{where}/predict",
            "downloads": {"zip": f"{where}/run.zip", "onnx": f"{where}/{ONNX_FILE}"},
        }
