"""The FastAPI application: the page at /, the JSON API under /api, and /healthz."""

import os
from dataclasses import dataclass
from pathlib import Path

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from cnnapp.web.answers import answer
from cnnapp.web.served import ServedModel

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


def create_app(models: dict[str, ServedModel], limits: Limits | None = None) -> FastAPI:
    """The application serving these models within these limits."""
    limits = limits or Limits()
    workers = anyio.CapacityLimiter(os.cpu_count() or 1)  # more threads than cores only queue for the GIL
    app = FastAPI(
        title="cnnapp",
        summary="Trained cnnapp runs: which class each photo shows.",
        version="0.1.0",
    )

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
    )
    async def predict(name: str, request: Request, picture: bool = False) -> JSONResponse:
        served = models.get(name)
        if served is None:
            raise HTTPException(404, f"no model named {name!r}; the models are {', '.join(models)}")
        uploads = await read_uploads(request, limits)
        rows = await anyio.to_thread.run_sync(answer, served.predictor, uploads, picture, limiter=workers)
        errors = [row["error"] for row in rows if "error" in row]
        if len(errors) == len(rows):
            return JSONResponse({"detail": "; ".join(errors), "results": rows}, status_code=422)
        return JSONResponse(rows)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def read_uploads(request: Request, limits: Limits) -> list[tuple[str, bytes]]:
    """The uploaded files of a multipart request as (file name, content); HTTPException past the limits."""
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
        uploads.append((name, await file.read()))
    await form.close()
    return uploads
