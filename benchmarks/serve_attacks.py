"""Hostile clients against `cnnapp serve` with its default settings, while a good client keeps asking.

Starts `cnnapp serve` on a free port of 127.0.0.1 and, for --seconds, replays at once: requests of 8 large PNGs
(about 24 megapixels each, decoded in full) from two clients, progressive JPEGs of 59 megapixels, PNG bombs of 59
megapixels, TIFF and EPS uploads, requests with a foreign Host, connections that trickle their headers and
connections that trickle their bodies. A good client sends one small real photo every 0.2 s throughout. Prints the
good request's latency before and during the attacks, how each attack was answered, how long the server held the
slow connections, and the server's memory (RSS) before, at its peak and after; and, as the machine's reference in
the same run, the float32 matmul peak measured with NumPy. Without --run it first trains the signs model briefly on
sign-digits 0-5; everything goes to a temporary folder that is removed at the end.

    CNNAPP_DATA=~/datasets .venv/bin/python benchmarks/serve_attacks.py
"""

import argparse
import io
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from cnnapp.settings import data_dir

from predict_latency import cnnapp, sample_photos
from serve_load import free_port, start_server


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The best float32 GFLOP/s of an n x n matmul with NumPy."""
    a, b = (np.random.default_rng(i).random((n, n), dtype=np.float32) for i in (0, 1))
    best = min(timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def payloads() -> dict[str, list[tuple[str, bytes]]]:
    """name -> the files each attack request uploads."""
    large = Image.new("RGB", (4900, 4900), (90, 160, 30))
    bomb = Image.new("1", (7680, 7680))
    huge_jpeg = Image.new("RGB", (7680, 7680), (200, 120, 40))
    return {
        "8 large PNGs": [(f"large{i}.png", encoded(large, "PNG")) for i in range(8)],
        "progressive JPEG": [("huge.jpg", encoded(huge_jpeg, "JPEG", progressive=True))],
        "PNG bomb": [("bomb.png", encoded(bomb, "PNG"))],
        "TIFF and EPS": [
            ("photo.tif", encoded(Image.new("RGB", (640, 480)), "TIFF")),
            ("photo.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n"),
        ],
    }


class Attacks:
    """Threads replaying hostile requests until stopped, counting how each was answered."""

    def __init__(self, url: str, port: int) -> None:
        self.url, self.port = url, port
        self.stop = threading.Event()
        self.answers: Counter = Counter()
        self.held: list[float] = []  # seconds the server kept each slow connection open
        self.lock = threading.Lock()

    def count(self, what: str, status: int | str) -> None:
        with self.lock:
            self.answers[(what, status)] += 1

    def uploads(self, what: str, files: list[tuple[str, bytes]]) -> None:
        with httpx.Client(timeout=120) as client:
            while not self.stop.is_set():
                try:
                    response = client.post(self.url, files=[("photos", file) for file in files])
                    self.count(what, response.status_code)
                except httpx.HTTPError as error:
                    self.count(what, type(error).__name__)

    def foreign_host(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                self.count("foreign Host", client.get(self.url, headers={"Host": "rebound.example"}).status_code)
                time.sleep(0.05)

    def slow(self, what: str, opening: bytes, trickle: bytes) -> None:
        """Open connections that send opening, then a byte of trickle a second, until the server closes them."""
        while not self.stop.is_set():
            sock = socket.create_connection(("127.0.0.1", self.port))
            start = time.monotonic()
            sock.sendall(opening)
            try:
                for byte in trickle:
                    if self.stop.wait(1.0):
                        break
                    sock.sendall(bytes([byte]))
                    sock.settimeout(0.001)
                    try:
                        if sock.recv(4096) == b"":
                            break
                    except TimeoutError:
                        pass
            except OSError:
                pass
            if not self.stop.is_set():
                with self.lock:
                    self.held.append(time.monotonic() - start)
                self.count(what, "closed")
            sock.close()

    def start(self, files: dict[str, list[tuple[str, bytes]]]) -> list[threading.Thread]:
        path = "/api/models/bench/predict"
        headers = f"POST {path} HTTP/1.1\r\nHost: localhost\r\n".encode() + b"X-Slow: " + b"a" * 4000
        body = (
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            "Content-Length: 100000\r\n\r\n--b\r\n"
        ).encode()
        jobs = [
            *[(self.uploads, ("8 large PNGs", files["8 large PNGs"]))] * 2,
            (self.uploads, ("progressive JPEG", files["progressive JPEG"])),
            (self.uploads, ("PNG bomb", files["PNG bomb"])),
            (self.uploads, ("TIFF and EPS", files["TIFF and EPS"])),
            (self.foreign_host, ()),
            *[(self.slow, ("slow headers", headers, b"b" * 4000))] * 20,
            *[(self.slow, ("slow body", body, b"c" * 100000))] * 20,
        ]
        threads = [threading.Thread(target=target, args=args, daemon=True) for target, args in jobs]
        for thread in threads:
            thread.start()
        return threads


def good_client(url: str, photo: tuple[str, bytes], seconds: float) -> list[float]:
    """Latencies of one small photo sent every 0.2 s for seconds; exits on any answer but 200."""
    latencies = []
    end = time.monotonic() + seconds
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < end:
            start = time.perf_counter()
            response = client.post(url, files=[("photos", photo)])
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                sys.exit(f"the good request got {response.status_code}: {response.text[:200]}")
            time.sleep(max(0.0, 0.2 - latencies[-1]))
    return latencies


def summary(latencies: list[float]) -> str:
    ms = sorted(1000 * t for t in latencies)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"{len(ms)} requests, median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="A trained run to serve (copied, not changed).")
    parser.add_argument("--seconds", type=float, default=30, help="How long the attacks last.")
    args = parser.parse_args()
    gflops = matmul_gflops()
    files = payloads()
    with tempfile.TemporaryDirectory(prefix="cnnapp-attacks-") as tmp:
        (good,) = sample_photos(data_dir() / "sign-language-digits", 1, Path(tmp) / "photos").iterdir()
        photo = (good.name, good.read_bytes())
        run = Path(tmp) / "run"
        if args.run is None:
            print("training signs on sign-digits 0-5 for 3 epochs ...", file=sys.stderr)
            cnnapp("train", "signs", "--data", "sign-digits", "--classes", "0-5", "--epochs", "3", "--out", str(run))
        else:
            shutil.copytree(args.run, run)
        cnnapp("export", str(run))
        port = free_port()
        server = start_server(run, port)
        log: list[str] = []  # the server's messages, read as they come so that it never waits on the pipe
        threading.Thread(target=lambda: log.extend(server.stderr), daemon=True).start()
        url = f"http://127.0.0.1:{port}/api/models/bench/predict"
        peak = 0.0

        def watch(stop: threading.Event) -> None:
            nonlocal peak
            while not stop.wait(0.05):
                peak = max(peak, rss_mb(server.pid))

        try:
            quiet = good_client(url, photo, 5)
            before = rss_mb(server.pid)
            watching = threading.Event()
            threading.Thread(target=watch, args=(watching,), daemon=True).start()
            attacks = Attacks(url, port)
            threads = attacks.start(files)
            time.sleep(1)
            attacked = good_client(url, photo, args.seconds)
            attacks.stop.set()
            for thread in threads:
                thread.join(timeout=120)
            time.sleep(2)
            watching.set()
            after = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait()

    served = args.run or "signs, 3 epochs on sign-digits 0-5"
    print(f"served: {served}; cnnapp serve with its defaults; {os.cpu_count()} CPUs")
    print(f"float32 matmul peak (NumPy, 2048x2048): {gflops:.0f} GFLOP/s")
    print(f"good request, quiet:           {summary(quiet)}")
    print(f"good request, under attack:    {summary(attacked)} ({args.seconds:g} s of attacks)")
    for (what, status), n in sorted(attacks.answers.items(), key=str):
        print(f"  {what}: {n} x {status}")
    if attacks.held:
        print(f"slow connections held: median {statistics.median(attacks.held):.1f} s, max {max(attacks.held):.1f} s")
    print(f"server RSS: {before:.0f} MB before, {peak:.0f} MB at peak, {after:.0f} MB after ({after - before:+.0f} MB)")
    print(f"server messages during the run: {len(log)} lines")
    for line in log[:5]:
        print(f"  {line.rstrip()}")


if __name__ == "__main__":
    main()
