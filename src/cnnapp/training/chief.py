"""A distributed search over gRPC with KerasTuner's own service: the chief serves the oracle, workers reach it.

The chief's loop stands in for KerasTuner's start_server, which polls every 20 s and never ends while a worker
that died still holds a trial: here the oracle takes back the trial of a worker that falls silent (see
SearchRules.drop_silent), and the chief ends once the trials are done and every worker has been told.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from keras_tuner.src import protos
from keras_tuner.src.distribute.oracle_chief import OracleServicer, exit_chief

from cnnapp.errors import CnnappError

HEARTBEAT = 2.0
"""Seconds between a worker's signs of life while it runs a trial."""

SILENCE = 15.0
"""A worker not heard from for this many seconds is taken for dead, and its trial goes to another worker."""

RECONNECT = [("grpc.initial_reconnect_backoff_ms", 500), ("grpc.max_reconnect_backoff_ms", 2000)]
"""A waiting worker tries the chief's port at least every 2 s."""


@dataclass(frozen=True)
class Address:
    """Where a chief listens."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_address(text: str, parameter: str) -> Address:
    """HOST:PORT as an Address; CnnappError naming the parameter it came from when it is not one."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CnnappError(f"`{parameter}` {text}: expected HOST:PORT, e.g. 127.0.0.1:8470", parameter=parameter)
    return Address(host, int(port))


def bound_server(address: Address) -> grpc.Server:
    """A gRPC server holding address, not started yet; CnnappError when another process has the port."""
    server = grpc.server(ThreadPoolExecutor(max_workers=4), options=[("grpc.so_reuseport", 0)])
    try:
        bound = server.add_insecure_port(str(address))
    except RuntimeError:
        bound = 0
    if not bound:
        raise CnnappError(
            f"`chief` {address}: cannot listen there (the port is in use, or not an address of this host)",
            parameter="chief",
        )
    return server


def serve(server: grpc.Server, oracle, report) -> None:
    """Hand out the oracle's trials to workers until the search is over and every worker has been told to stop;
    each worker taken for dead is reported as one line."""
    servicer = OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    server.start()
    try:
        while not ((servicer.stop_triggered or oracle.finished()) and exit_chief(oracle)):
            time.sleep(0.5)
            for tuner_id, trial_id in oracle.drop_silent(SILENCE):
                given_back = f"; trial {trial_id} goes to another worker" if trial_id else ""
                report(f"worker {tuner_id}: not heard from for {SILENCE:.0f} s, taken for dead{given_back}")
    finally:
        server.stop(grace=2).wait()


def wait_for_chief(address: Address, seconds: float, report) -> None:
    """Return once a chief answers at address; CnnappError after seconds without one."""
    report(f"waiting up to {seconds:.0f} s for the chief at {address}")
    channel = grpc.insecure_channel(str(address), options=RECONNECT)
    try:
        grpc.channel_ready_future(channel).result(timeout=seconds)
    except grpc.FutureTimeoutError:
        raise CnnappError(
            f"`worker` {address}: no chief answered within {seconds:.0f} s; start `cnnapp tune ... --chief {address}` "
            "first, or let the worker wait longer (`cnnapp tune ... --wait SECONDS`)",
            parameter="worker",
        ) from None
    finally:
        channel.close()
