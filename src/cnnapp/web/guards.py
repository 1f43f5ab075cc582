"""What keeps the server answering when clients are slow or hostile: deadlines for a request's headers and body,
and the Host names it answers to."""

import asyncio

import anyio
from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_SECONDS = 5.0
"""A connection whose request line and headers have not all arrived this long after it opened (or after its
first byte, for the next request on a kept-alive connection) is closed."""
BODY_SECONDS = 5.0
BODY_RATE = 16 * 1024
"""A request body must keep arriving at BODY_RATE bytes a second after a start of BODY_SECONDS: one that falls
behind is answered 408 and its connection closed."""
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Host names the server always answers to."""


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, closing connections whose headers take longer than HEADER_SECONDS."""

    header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.start_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.header_timer is None:
            self.start_timer()

    def on_headers_complete(self) -> None:
        self.stop_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_timer()
        super().connection_lost(exc)

    def start_timer(self) -> None:
        self.header_timer = self.loop.call_later(HEADER_SECONDS, self.too_slow)

    def stop_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def too_slow(self) -> None:
        self.header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class BodyDeadline:
    """ASGI middleware: a body that falls behind BODY_RATE after BODY_SECONDS is answered 408 and its connection
    closed, so that a client trickling its body holds the connection for seconds only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = anyio.current_time()
        received = 0
        complete = False

        async def timed_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            deadline = start + BODY_SECONDS + received / BODY_RATE
            try:
                with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                    message = await receive()
            except TimeoutError:
                detail = f"the request body arrived slower than {BODY_RATE // 1024} KB a second"
                raise HTTPException(408, detail, headers={"Connection": "close"}) from None
            received += len(message.get("body", b""))
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)


def host_name(header: str) -> str:
    """The host in a Host header: lowercase, without its port or an IPv6 address's brackets."""
    header = header.strip().lower()
    if header.startswith("[") and "]" in header:
        return header[1 : header.index("]")]
    return header.partition(":")[0]


class HostCheck:
    """ASGI middleware: a request whose Host header names no allowed host gets 400, so that a web page on another
    name resolving to this address (DNS rebinding) cannot read the API."""

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...]) -> None:
        self.app = app
        self.hosts = tuple(dict.fromkeys(host.strip("[]").lower() for host in hosts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = host_name(Headers(scope=scope).get("host", ""))
            if host not in self.hosts:
                detail = (
                    f"Host {host!r} is not one this server answers to ({', '.join(self.hosts)}); "
                    "add it with cnnapp serve --allowed-host"
                )
                await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)
