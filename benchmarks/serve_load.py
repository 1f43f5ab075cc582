"""How fast `cnnapp serve` answers: concurrent HTTP clients against one server, beside `cnnapp predict`.

Starts `cnnapp serve` on a free port on 127.0.0.1, then for each scenario a fixed number of requests spread over
concurrent clients (keep-alive connections): single-photo requests at 1, 4 and 16 clients and 32-photo requests
at 4 clients. Prints requests/s, photos/s, p50/p95/p99 latency, the CPU time the server and the clients spent
per request, and the load average of each, and, as the reference in the same run, `cnnapp predict RUN PHOTO`
started once per photo. Without --run it first trains the signs model briefly on
sign-digits 0-5; everything goes to a temporary folder that is removed at the end.

    CNNAPP_DATA=~/datasets .venv/bin/python benchmarks/serve_load.py
"""

import argparse
import http.client
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from cnnapp.settings import data_dir

from predict_latency import ENV, cnnapp, sample_photos


@dataclass(frozen=True)
class Scenario:
    clients: int
    photos: int  # per request
    requests: int  # in all, shared by the clients


SCENARIOS = [Scenario(1, 1, 500), Scenario(4, 1, 1000), Scenario(16, 1, 2000), Scenario(4, 32, 100)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(run: Path, port: int) -> subprocess.Popen:
    """`cnnapp serve RUN` on 127.0.0.1:port, once /healthz answers."""
    server = subprocess.Popen(
        [sys.executable, "-m", "cnnapp", "serve", f"bench={run}", "--port", str(port)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"cnnapp serve failed:\n{server.stderr.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    sys.exit("cnnapp serve did not answer within 120 s")


def multipart(photos: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body of the photos in the field `photos`, and its content type."""
    request = httpx.Request(
        "POST", "http://x/", files=[("photos", (name, data, "image/jpeg")) for name, data in photos]
    )
    return request.read(), request.headers["content-type"]


def load(port: int, path: str, scenario: Scenario, bodies: list[tuple[bytes, str]]) -> tuple[float, list[float]]:
    """Wall seconds and each request's latency for scenario's requests, sent by its clients (threads, each with
    one keep-alive connection)."""
    latencies: list[float] = []
    counter = itertools.count()
    failures: list[str] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        while (i := next(counter)) < scenario.requests and not failures:
            body, content_type = bodies[i % len(bodies)]
            start = time.perf_counter()
            connection.request("POST", path, body, {"Content-Type": content_type})
            response = connection.getresponse()
            answer = response.read()
            latencies.append(time.perf_counter() - start)
            if response.status != 200:
                failures.append(f"{path}: {response.status} {answer[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(scenario.clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(failures[0])
    return time.perf_counter() - start, latencies


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def predict_once(run: Path, photo: Path) -> float:
    """Wall seconds of `cnnapp predict RUN PHOTO`, a fresh process."""
    start = time.perf_counter()
    cnnapp("predict", str(run), str(photo))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="A trained run to serve (copied, not changed).")
    parser.add_argument("--predict-photos", type=int, default=10, help="Photos for the `cnnapp predict` reference.")
    parser.add_argument(
        "--source", type=Path, help="Where the photos come from. Default: sign-language-digits in the data folder."
    )
    args = parser.parse_args()
    source = args.source or data_dir() / "sign-language-digits"
    with tempfile.TemporaryDirectory(prefix="cnnapp-bench-") as tmp:
        photos = sorted(sample_photos(source, 256, Path(tmp) / "photos").iterdir())
        uploads = [(p.name, p.read_bytes()) for p in photos]
        run = Path(tmp) / "run"
        if args.run is None:
            print("training signs on sign-digits 0-5 for 10 epochs ...", file=sys.stderr)
            cnnapp("train", "signs", "--data", "sign-digits", "--classes", "0-5", "--epochs", "10", "--out", str(run))
        else:
            shutil.copytree(args.run, run)
        cnnapp("export", str(run))
        reference = [predict_once(run, photo) for photo in photos[: args.predict_photos]]
        port = free_port()
        server = start_server(run, port)
        path = "/api/models/bench/predict"
        results = []
        try:
            for scenario in SCENARIOS:
                groups = [uploads[i : i + scenario.photos] for i in range(0, len(uploads), scenario.photos)]
                bodies = [multipart(group) for group in groups if len(group) == scenario.photos]
                server_cpu, client_cpu = cpu_seconds(server.pid), client_cpu_seconds()
                seconds, latencies = load(port, path, scenario, bodies)
                cpu = (cpu_seconds(server.pid) - server_cpu, client_cpu_seconds() - client_cpu)
                results.append((scenario, seconds, latencies, cpu, os.getloadavg()[0]))
        finally:
            server.terminate()
            server.wait()

    print(f"served: {args.run or 'signs, 10 epochs on sign-digits 0-5'}; photos from {source}; {os.cpu_count()} CPUs")
    print(
        f"{'what':<34}{'requests/s':>11}{'photos/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'server CPU ms/req':>19}{'client CPU ms/req':>19}{'load':>7}"
    )
    for scenario, seconds, latencies, cpu, loadavg in results:
        what = f"serve, {scenario.photos} photo(s) x {scenario.requests}, {scenario.clients} clients"
        rate = scenario.requests / seconds
        ms = [1000 * percentile(latencies, q) for q in (50, 95, 99)]
        print(
            f"{what:<34}{rate:>11.0f}{rate * scenario.photos:>10.0f}"
            f"{ms[0]:>9.1f}{ms[1]:>9.1f}{ms[2]:>9.1f}"
            f"{1000 * cpu[0] / scenario.requests:>19.2f}{1000 * cpu[1] / scenario.requests:>19.2f}{loadavg:>7.2f}"
        )
    median = statistics.median(reference)
    what = f"cnnapp predict, 1 photo x {len(reference)}"
    print(f"{what:<34}{1 / median:>11.1f}{1 / median:>10.1f}{1000 * median:>9.0f}{'':>56}{os.getloadavg()[0]:>7.2f}")
    single = next(r for r in results if r[0].clients == 16 and r[0].photos == 1)
    print(f"serve at 16 clients / cnnapp predict: {single[0].requests / single[1] * median:.0f}x photos/s")


if __name__ == "__main__":
    main()
