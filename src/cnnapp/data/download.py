"""Downloading one URL to a file: a progress bar, retries with backoff, a timeout, an overall deadline, a size cap,
and resume of a broken transfer.

requests with urllib3's Retry retries a refused connection, a timeout or a 5xx answer. What neither they nor
keras.utils.get_file nor pooch do is resume: here a transfer that breaks after some bytes goes on from
`<file>.part` with an HTTP Range request, as long as each attempt brings more bytes.
"""

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from cnnapp.errors import CnnappError

RETRIES = 3
"""Extra attempts at a request that fails before its answer starts (refused, timed out, 5xx)."""
BACKOFF = 0.5
"""Seconds before the second retry; each next one waits twice as long."""
RESUMES = 5
"""Transfers that may break in a row, each after bringing some bytes, before giving up."""
CHUNK = 1 << 14
"""Bytes read at a time; when a transfer breaks, the bytes of the chunk being read are lost."""


def session() -> requests.Session:
    """A requests session that retries with exponential backoff."""
    retry = Retry(total=RETRIES, backoff_factor=BACKOFF, status_forcelist=(429, 500, 502, 503, 504))
    http = requests.Session()
    http.mount("http://", HTTPAdapter(max_retries=retry))
    http.mount("https://", HTTPAdapter(max_retries=retry))
    http.headers["Accept-Encoding"] = "identity"
    return http


def download(url: str, path: Path, timeout: float, deadline: float, limit: int) -> Path:
    """The file at url saved as path, resuming from `path.part` if an earlier transfer broke off.

    Refused with CnnappError if the answer is, or says it will be, more than limit bytes (the part is deleted),
    or if it is not complete deadline seconds after the start (the part is kept for a later resume).
    """
    part = path.with_name(path.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    bounds = _Bounds(url, time.monotonic() + deadline, deadline, limit)
    with session() as http:
        for _ in range(RESUMES + 1):
            have = part.stat().st_size if part.exists() else 0
            bounds.check(have, part)
            try:
                response = http.get(url, headers=_range(have), stream=True, timeout=timeout)
            except requests.RequestException as error:
                raise CnnappError(f"{url}: {_failure(error, timeout)}, {RETRIES + 1} tries") from error
            with response:
                if response.status_code == 416 or (response.status_code == 206 and not _resumes_at(response, have)):
                    part.unlink()
                    continue
                if not response.ok:
                    raise CnnappError(f"{url}: the server answered {response.status_code} {response.reason}")
                if response.status_code == 200:
                    have = 0
                size = _announced(response, url)
                if have + size > limit:
                    part.unlink(missing_ok=True)
                    raise CnnappError(f"{url}: {_too_big(have + size, limit)}")
                if _receive(response, part, have, size, bounds):
                    part.replace(path)
                    return path
            if not part.exists() or part.stat().st_size == have:
                break
            time.sleep(BACKOFF)
    raise CnnappError(f"{url}: the transfer kept breaking off; run the command again to resume it")


@dataclass(frozen=True)
class _Bounds:
    """When and at what size a transfer is stopped."""

    url: str
    ends: float  # time.monotonic() at the deadline
    deadline: float
    limit: int

    def check(self, got: int, part: Path) -> None:
        if got > self.limit:
            part.unlink()
            raise CnnappError(f"{self.url}: {_too_big(got, self.limit)}")
        if time.monotonic() > self.ends:
            raise CnnappError(
                f"{self.url}: not complete within the deadline of {self.deadline:g} s (`deadline`), "
                f"{got} bytes so far; run the command again to resume it",
                parameter="deadline",
            )


def _announced(response: requests.Response, url: str) -> int:
    """The body's length the server announces, 0 if it does not say; refused if not a whole number."""
    text = response.headers.get("Content-Length", "0").strip()
    if not text.isdigit():
        raise CnnappError(f"{url}: the server sent a Content-Length that is not a number of bytes ({text[:40]})")
    return int(text)


def _too_big(size: int, limit: int) -> str:
    return f"{size} bytes, more than the {limit / 1e6:g} MB this source can be; refused"


def _range(have: int) -> dict[str, str]:
    return {"Range": f"bytes={have}-"} if have else {}


def _resumes_at(response: requests.Response, have: int) -> bool:
    return response.headers.get("Content-Range", "").startswith(f"bytes {have}-")


def _receive(response: requests.Response, part: Path, have: int, size: int, bounds: _Bounds) -> bool:
    """Appends the answer's body to part (from byte have on); False if the transfer broke off.

    Reads whatever bytes have come (not a whole chunk), so that a server sending a byte at a time still meets
    the deadline.
    """
    chunks = _pieces(response)
    bar = click.progressbar(
        chunks,  # only read for its length, unknown when the server does not say (then bytes so far are shown)
        length=have + size if size else None,
        label=f"  {(have + size) / 1e6:.1f} MB" if size else "  bytes",
        show_pos=not size,
        update_min_steps=1 << 20,
        file=sys.stderr,
        hidden=not sys.stderr.isatty(),
    )
    with part.open("ab" if have else "wb") as f, bar:
        bar.update(have)
        try:
            for chunk in chunks:
                f.write(chunk)
                have += len(chunk)
                bar.update(len(chunk))
                bounds.check(have, part)
        except (requests.RequestException, urllib3.exceptions.HTTPError):
            return False
    return True


def _pieces(response: requests.Response) -> Iterator[bytes]:
    """The body in pieces of at most CHUNK bytes, each as soon as it has come."""
    while piece := response.raw.read1(CHUNK, decode_content=True):
        yield piece


def _failure(error: requests.RequestException, timeout: float) -> str:
    """Why a request failed, in a few words."""
    reason = getattr(error.args[0], "reason", error) if error.args else error
    if isinstance(error, requests.exceptions.RetryError):
        return f"the server kept failing ({reason})"
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return f"cannot connect ({str(reason).split(': ')[-1]})"
    if isinstance(error, requests.Timeout) or isinstance(reason, urllib3.exceptions.TimeoutError):
        return f"no answer within {timeout:g} s"
    return f"cannot connect ({str(reason).split(': ')[-1]})"
