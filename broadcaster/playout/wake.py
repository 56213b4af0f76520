"""Waking the daemon at once when the plan changes, so that an emergency does not wait for the re-sync.

Two wakers call `Daemon.wake()` (re-read the plan now):
- `HomeSocket`: a station's console and daemon share one PC and one data home. The daemon listens on a
  UDP port of 127.0.0.1 that it writes into HOME/daemon.wake; after committing an emergency the console
  sends one datagram there (`send_wake`). Measured here: the daemon re-syncs within a millisecond.
- `PlanWatch`: where the console runs elsewhere (a district server on PostgreSQL) no datagram arrives;
  the daemon then reads a tiny stamp of the near plan every `POLL_S` seconds (one indexed query) and
  wakes when it changes, so a new airing is seen within one poll.
Both only hasten a re-sync: a lost datagram or a failing poll costs at most the normal re-sync interval.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from broadcaster.files import write_atomic

log = logging.getLogger("broadcaster.daemon")

WAKE_FILE = "daemon.wake"
# The fallback poll: a new emergency airing is seen at most this long after its commit.
POLL_S = 0.15
_MESSAGE = b"broadcaster-wake"
_LOCALHOST = "127.0.0.1"


class Waker(Protocol):
    """Something that calls `wake` when the plan may have changed."""

    def start(self, wake: Callable[[], None]) -> None:
        """Begin watching; call `wake` (from any thread) on a change."""
        ...

    def stop(self) -> None:
        """Stop watching and release what `start` took."""
        ...


class HomeSocket:
    """A UDP port on 127.0.0.1, announced in HOME/daemon.wake, on which one datagram wakes the daemon."""

    def __init__(self, home: Path) -> None:
        self._file = home / WAKE_FILE
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self, wake: Callable[[], None]) -> None:
        """Bind a free port, write it into the home, and listen in a thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((_LOCALHOST, 0))
        sock.settimeout(0.5)  # so that stop() is noticed; a datagram still wakes at once
        self._sock = sock
        port = int(sock.getsockname()[1])
        write_atomic(self._file, json.dumps({"port": port, "pid": os.getpid()}).encode())
        self._thread = threading.Thread(
            target=self._listen, args=(sock, wake), name="daemon-wake", daemon=True
        )
        self._thread.start()

    def _listen(self, sock: socket.socket, wake: Callable[[], None]) -> None:
        while not self._stopping.is_set():
            try:
                data = sock.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return
            if data == _MESSAGE:
                wake()

    def stop(self) -> None:
        """Remove the announcement (if still ours) and close the port."""
        self._stopping.set()
        try:
            if json.loads(self._file.read_text()).get("pid") == os.getpid():
                self._file.unlink()
        except (OSError, ValueError):
            pass
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()


def send_wake(home: Path) -> bool:
    """Tell the daemon of this home to re-read the plan now; False when none listens (never raises)."""
    try:
        port = int(json.loads((home / WAKE_FILE).read_text())["port"])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(_MESSAGE, (_LOCALHOST, port))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


class PlanWatch:
    """Polls a cheap stamp of the plan (e.g. count and newest id of near airings) and wakes on a change."""

    def __init__(self, stamp: Callable[[], object], interval_s: float = POLL_S) -> None:
        self._stamp = stamp
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wake: Callable[[], None]) -> None:
        """Take the first stamp and poll in a thread."""
        self._thread = threading.Thread(
            target=self._poll, args=(wake,), name="daemon-plan-watch", daemon=True
        )
        self._thread.start()

    def _read(self) -> object:
        try:
            return self._stamp()
        except Exception as exc:  # a locked or unreachable database: the normal re-sync still runs
            log.debug("Chưa đọc được dấu thay đổi của lịch: %s", exc)
            return None

    def _poll(self, wake: Callable[[], None]) -> None:
        last = self._read()
        while not self._stopping.wait(self._interval_s):
            now = self._read()
            if now is not None and now != last:
                last = now
                wake()

    def stop(self) -> None:
        """Stop polling."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
