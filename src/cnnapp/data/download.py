"""Downloading one URL to a file: a progress bar, retries with backoff, a timeout, and resume of a broken transfer.

requests with urllib3's Retry retries a refused connection, a timeout or a 5xx answer. What neither they nor
keras.utils.get_file nor pooch do is resume: here a transfer that breaks after some bytes goes on from
`<file>.part` with an HTTP Range request, as long as each attempt brings more bytes.
"""

import sys
import time
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


def download(url: str, path: Path, timeout: float) -> Path:
    """The file at url saved as path, resuming from `path.part` if an earlier transfer broke off."""
    part = path.with_name(path.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    with session() as http:
        for _ in range(RESUMES + 1):
            have = part.stat().st_size if part.exists() else 0
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
                if _receive(response, part, have):
                    part.replace(path)
                    return path
            if not part.exists() or part.stat().st_size == have:
                break
            time.sleep(BACKOFF)
    raise CnnappError(f"{url}: the transfer kept breaking off; run the command again to resume it")


def _range(have: int) -> dict[str, str]:
    return {"Range": f"bytes={have}-"} if have else {}


def _resumes_at(response: requests.Response, have: int) -> bool:
    return response.headers.get("Content-Range", "").startswith(f"bytes {have}-")


def _receive(response: requests.Response, part: Path, have: int) -> bool:
    """Appends the answer's body to part (from byte have on); False if the transfer broke off."""
    size = int(response.headers.get("Content-Length", 0))
    chunks = response.iter_content(CHUNK)
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
                bar.update(len(chunk))
        except requests.RequestException:
            return False
    return True


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
