"""Test helper: a real local Icecast server (Debian's icecast2) fed a steady tone by ffmpeg, which a test
can cut (server killed) and restore mid-relay.

Usage::

    with IcecastServer() as ice:
        url = ice.mount_url            # http://127.0.0.1:PORT/live.mp3, a 440 Hz tone
        ice.cut(); ...; ice.restore()  # the stream goes away and comes back on the same URL
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

SOURCE_PASSWORD = "nguon-thu-nghiem"
TONE_HZ = 440
FEED = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi"]
ENCODE = ["-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k", "-content_type", "audio/mpeg", "-f", "mp3"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(port: int, logdir: Path) -> str:
    return f"""<icecast>
  <limits><clients>20</clients><sources>4</sources><queue-size>524288</queue-size>
    <client-timeout>30</client-timeout><header-timeout>15</header-timeout><source-timeout>3</source-timeout>
    <burst-size>16384</burst-size></limits>
  <authentication><source-password>{SOURCE_PASSWORD}</source-password><admin-user>admin</admin-user>
    <admin-password>{SOURCE_PASSWORD}-admin</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>{logdir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>{_owner()}</security>
</icecast>
"""


def _owner() -> str:
    # Icecast refuses to run as root unless told whom to become.
    return "<changeowner><user>nobody</user><group>nogroup</group></changeowner>" if os.getuid() == 0 else ""


class IcecastServer:
    """icecast2 on a free port with one mount, fed by an ffmpeg tone source."""

    def __init__(self, mount: str = "live.mp3") -> None:
        # As root, icecast2 becomes `nobody`, who must reach its log folder: not under pytest's 0700 tmp.
        self.folder = Path(tempfile.mkdtemp(prefix="broadcaster-icecast-"))
        self.folder.chmod(0o755)
        self.port = _free_port()
        self.mount = mount
        self._server: subprocess.Popen[bytes] | None = None
        self._feeder: subprocess.Popen[bytes] | None = None

    @property
    def mount_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.mount}"

    def __enter__(self) -> IcecastServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cut()
        shutil.rmtree(self.folder, ignore_errors=True)

    def start(self) -> None:
        """Start the server and its source; return once a listener gets audio."""
        logdir = self.folder / "icecast-log"
        logdir.mkdir(parents=True, exist_ok=True)
        logdir.chmod(0o777)
        config = self.folder / "icecast.xml"
        config.write_text(_config(self.port, logdir), encoding="utf-8")
        config.chmod(0o644)
        self._server = subprocess.Popen(
            ["icecast2", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_port()
        tone = f"sine=frequency={TONE_HZ}:sample_rate=44100"
        self._feeder = subprocess.Popen(
            [
                *FEED,
                "-i",
                tone,
                *ENCODE,
                f"icecast://source:{SOURCE_PASSWORD}@127.0.0.1:{self.port}/{self.mount}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_mount()

    def _wait_port(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("icecast2 did not start listening")

    def _wait_mount(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = subprocess.run(
                [
                    "ffmpeg",
                    "-nostdin",
                    "-loglevel",
                    "quiet",
                    "-i",
                    self.mount_url,
                    "-t",
                    "0.2",
                    "-f",
                    "s16le",
                    "-",
                ],
                capture_output=True,
                timeout=10,
                check=False,
            )
            if got.stdout:
                return
            time.sleep(0.1)
        raise RuntimeError("the icecast mount carried no audio")

    def cut(self) -> None:
        """Kill the server and its source (listeners lose the stream at once)."""
        for proc in (self._feeder, self._server):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(5)
        self._feeder = self._server = None

    def restore(self) -> None:
        """Bring the same mount back on the same port."""
        self.start()
