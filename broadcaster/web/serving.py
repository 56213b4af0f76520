"""How uvicorn serves the console: the HTTP protocol with TCP_NODELAY on every connection.

With several worker processes uvicorn hands each worker the listening socket by file descriptor, and
asyncio then no longer recognises it as TCP (its `proto` reads 0), so it skips TCP_NODELAY: every small
response waits ~40 ms for the client's delayed ACK (Nagle). Setting it per connection restores the
single-process behaviour. Imported only when the console is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with Nagle's algorithm off on its connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Turn TCP_NODELAY on, then start as uvicorn does."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
