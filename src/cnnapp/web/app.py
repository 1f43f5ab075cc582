"""The FastAPI application: the page at /, the JSON API under /api, and /healthz."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from swagger_ui_bundle import swagger_ui_path

from cnnapp.inference import Predictor
from cnnapp.web.answers import Decoders
from cnnapp.web.guards import LOCAL_HOSTS, BodyDeadline, HostCheck
from cnnapp.web.served import ServedModel
from cnnapp.web.teach import Workspace, zipped

STATIC = Path(__file__).parent / "static"
FORM_SLACK = 64 * 1024
"""Bytes a multipart body may hold beyond its photos: boundaries, part headers, file names."""
NO_PHOTOS = "no photos: send them as multipart/form-data files (e.g. curl -F photos=@face.jpg)"


@dataclass(frozen=True)
class Limits:
    """How much one request may send."""

    photo_bytes: int = 10 * 1024 * 1024
    photos: int = 64

    @property
    def request_bytes(self) -> int:
        return self.photos * (self.photo_bytes + FORM_SLACK)


def megabytes(n: int) -> str:
    """A byte count as megabytes, for messages."""
    return f"{n / (1024 * 1024):g} MB"


PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"photos": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "required": ["photos"],
                }
            }
        },
    }
}


class Problem(BaseModel):
    """Every error the API answers: one line saying what is wrong."""

    detail: str


class Answer(BaseModel):
    """What the run says about one photo, as `cnnapp predict --json` prints it."""

    path: str
    label: str
    probability: float
    probabilities: dict[str, float]
    face: bool | None = None  # only for a run that crops photos to the face
    picture: str | None = None  # only with picture=true: the 64x64 picture the model saw, a PNG data URL


class Unread(BaseModel):
    """A photo that cannot be read, and why."""

    path: str
    error: str


class NoneRead(BaseModel):
    """The answer when no photo of the request can be read."""

    detail: str
    results: list[Unread]


PROBLEMS = {
    status: {"model": Problem, "description": description}
    for status, description in [
        (400, "No photos, a bad query parameter, or a Host this server does not answer to"),
        (404, "No model of that name"),
        (408, "The body took too long to arrive"),
        (411, "A chunked body"),
        (413, "Over the limits of photos or bytes"),
    ]
}


TEACH_PROBLEMS = {
    **PROBLEMS,
    404: {"model": Problem, "description": "No such session, class, run or model"},
    409: {"model": Problem, "description": "A training of the session is under way"},
    422: {"model": Problem, "description": "A photo that cannot be read: none of the request's is kept"},
}
"""The errors the teach requests answer."""


def create_app(
    models: dict[str, ServedModel],
    limits: Limits | None = None,
    hosts: tuple[str, ...] = LOCAL_HOSTS,
    workspace: Path = Path("workspace"),
) -> FastAPI:
    """The application serving these models within these limits, to requests for these Host names; the page's
    teach view keeps its sessions' photos and runs in the workspace folder."""
    limits = limits or Limits()
    teach = Workspace(workspace)
    decoders = Decoders()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        teach.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="cnnapp",
        summary="Trained cnnapp runs: which class each photo shows.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(BodyDeadline)
    app.add_middleware(HostCheck, hosts=hosts)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "request"
        return JSONResponse({"detail": f"{where}: {first['msg']}"}, status_code=400)

    @app.get("/healthz", summary="Whether the server answers, and the models it serves")
    async def healthz() -> dict:
        return {"status": "ok", "models": list(models)}

    @app.get("/api/models", summary="The models served: classes, model, data, test accuracy, engine")
    async def list_models() -> list[dict]:
        return [model.describe() for model in models.values()]

    @app.post(
        "/api/models/{name}/predict",
        summary="Which class each uploaded photo shows",
        description=(
            "Multipart upload of one or many photos (any field name; `photos` by convention). The answer lists one "
            "object per photo, in order, as `cnnapp predict --json` prints them, `path` being the uploaded file's "
            "name; a photo that cannot be read gets `{path, error}` while the others are answered. With "
            "`picture=true` each answer also carries the 64x64 picture the model saw, as a PNG data URL. "
            f"Limits: {megabytes(limits.photo_bytes)} a photo and {limits.photos} photos a request (413 beyond); "
            "422 when no photo can be read; 404 for an unknown model; 400 for a request without photos."
        ),
        openapi_extra=PREDICT_BODY,
        response_model=list[Answer | Unread],
        responses={**PROBLEMS, 422: {"model": NoneRead, "description": "No photo of the request can be read"}},
    )
    async def predict(name: str, request: Request, picture: bool = False) -> JSONResponse:
        served = models.get(name)
        if served is None:
            raise HTTPException(404, f"no model named {name!r}; the models are {', '.join(models)}")
        return await answered(served.predictor, request, picture)

    async def answered(predictor: Predictor, request: Request, picture: bool) -> JSONResponse:
        try:
            rows = await decoders.answer(predictor, await read_uploads(request, limits), picture)
        finally:
            await request.close()  # the uploaded files
        errors = [row["error"] for row in rows if "error" in row]
        if len(errors) == len(rows):
            return JSONResponse({"detail": "; ".join(errors), "results": rows}, status_code=422)
        return JSONResponse(rows)

    @app.get(
        "/api/models/{name}/examples/{number}",
        summary="An example photo from the run's test split (listed by GET /api/models)",
        response_class=FileResponse,
        responses={
            200: {"content": {"image/*": {}}},
            404: PROBLEMS[404] | {"description": "No such model or photo"},
            "default": {"model": Problem, "description": "Any other error (400 for a number that is none)"},
        },
    )
    async def example(name: str, number: int) -> FileResponse:
        served = models.get(name)
        if served is None or not 0 <= number < len(served.examples):
            raise HTTPException(404, f"no example photo {number} of a model named {name!r}")
        return FileResponse(served.examples[number].path)

    @app.post(
        "/api/teach",
        summary="A new teach session: its id, to use in the other /api/teach requests",
        responses=TEACH_PROBLEMS,
    )
    async def new_session() -> dict:
        return teach.state(teach.new_session())

    @app.get(
        "/api/teach/{session}",
        summary="A session's classes (photo counts), runs and latest training",
        responses=TEACH_PROBLEMS,
    )
    async def session_state(session: str) -> dict:
        return teach.state(session)

    @app.post(
        "/api/teach/{session}/classes/{name}/photos",
        summary="Add photos to a class of the session (made when new)",
        description=(
            f"Multipart upload, as for predict. Every photo must be readable, or none is kept (422). Limits: "
            f"{megabytes(limits.photo_bytes)} a photo and {limits.photos} photos a request, as for predict."
        ),
        openapi_extra=PREDICT_BODY,
        responses=TEACH_PROBLEMS,
    )
    async def add_photos(session: str, name: str, request: Request) -> dict:
        teach.class_folder(session, name)
        try:
            images = [await decoders.whole(*upload) for upload in await read_uploads(request, limits)]
        finally:
            await request.close()
        errors = [image for image in images if isinstance(image, str)]
        if errors:
            raise HTTPException(422, f"no photo kept: {'; '.join(errors)}")
        await anyio.to_thread.run_sync(teach.add_photos, session, name, images)
        return teach.state(session)

    @app.delete(
        "/api/teach/{session}/classes/{name}",
        summary="Remove a class of the session and its photos",
        responses=TEACH_PROBLEMS,
    )
    async def remove_class(session: str, name: str) -> dict:
        await anyio.to_thread.run_sync(teach.remove_class, session, name)
        return teach.state(session)

    @app.post(
        "/api/teach/{session}/train",
        summary="Adapt a served model to the session's photos, in the background; follow it with GET the session",
        responses=TEACH_PROBLEMS,
    )
    async def train(session: str, base: str) -> dict:
        served = models.get(base)
        if served is None:
            raise HTTPException(404, f"no model named {base!r}; the models are {', '.join(models)}")
        teach.train(session, served)
        return teach.state(session)

    @app.get(
        "/api/teach/{session}/runs/{run}",
        summary="A run of the session, as GET /api/models describes runs",
        responses=TEACH_PROBLEMS,
    )
    async def session_run(session: str, run: str) -> dict:
        return await anyio.to_thread.run_sync(teach.describe, session, run)

    @app.post(
        "/api/teach/{session}/runs/{run}/predict",
        summary="Which class each uploaded photo shows, by a run of the session",
        openapi_extra=PREDICT_BODY,
        response_model=list[Answer | Unread],
        responses={**PROBLEMS, 422: {"model": NoneRead, "description": "No photo of the request can be read"}},
    )
    async def session_predict(session: str, run: str, request: Request, picture: bool = False) -> JSONResponse:
        predictor = await anyio.to_thread.run_sync(teach.predictor, session, run)
        return await answered(predictor, request, picture)

    @app.get(
        "/api/teach/{session}/runs/{run}/run.zip",
        summary="A run of the session: its folder as a zip",
        responses=TEACH_PROBLEMS,
    )
    async def run_zip(session: str, run: str) -> Response:
        content = await anyio.to_thread.run_sync(zipped, teach.run_folder(session, run), run)
        disposition = f'attachment; filename="{run}.zip"'
        return Response(content, media_type="application/zip", headers={"Content-Disposition": disposition})

    @app.get(
        "/api/teach/{session}/runs/{run}/model.onnx",
        summary="A run of the session: its ONNX model",
        responses=TEACH_PROBLEMS,
    )
    async def run_onnx(session: str, run: str) -> FileResponse:
        path = teach.run_folder(session, run) / "model.onnx"
        return FileResponse(path, media_type="application/octet-stream", filename=f"{run}.onnx")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="cnnapp API",
            swagger_js_url="/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/swagger-ui/favicon-32x32.png",
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/swagger-ui", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    return app


async def read_uploads(request: Request, limits: Limits) -> list[tuple[str, BinaryIO]]:
    """The uploaded files of a multipart request as (file name, open file), kept until the request is closed;
    HTTPException past the limits."""
    if "chunked" in request.headers.get("transfer-encoding", ""):
        raise HTTPException(411, "send the photos with a Content-Length, not chunked")
    length = int(request.headers.get("content-length") or 0)
    if length > limits.request_bytes:
        raise HTTPException(
            413,
            f"request of {megabytes(length)}: over the limit of {limits.photos} photos a request, each up to "
            f"{megabytes(limits.photo_bytes)}",
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(400, NO_PHOTOS)
    try:
        form = await request.form(max_files=limits.photos, max_fields=limits.photos)
    except ClientDisconnect:  # nobody is left to answer; no traceback for the log
        raise HTTPException(400, "the connection closed before the body was complete") from None
    except StarletteHTTPException as error:  # how Starlette reports a multipart body past its limits
        if "Too many files" in str(error.detail):
            raise HTTPException(413, f"more than {limits.photos} photos in one request") from None
        raise
    files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    if not files:
        raise HTTPException(400, NO_PHOTOS)
    uploads = []
    for number, file in enumerate(files, start=1):
        name = file.filename or f"photo {number}"
        if file.size is not None and file.size > limits.photo_bytes:
            raise HTTPException(
                413, f"{name}: {megabytes(file.size)}, over the limit of {megabytes(limits.photo_bytes)} a photo"
            )
        uploads.append((name, file.file))
    return uploads
