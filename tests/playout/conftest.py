"""Fixtures for playout tests: one warm PulseAudio null sink per session, a recorder per test, audio clips."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulse import PulseServer, Recorder

RATE = 48000


@pytest.fixture(scope="session")
def pulse_server() -> Iterator[PulseServer]:
    """A PulseAudio server (started if none runs) with a warm null sink private to this test run."""
    # A per-run name keeps two test runs on one machine (developers side by side) out of each other's sink.
    with PulseServer(f"bulletin_test_{os.getpid()}") as server:
        yield server


@pytest.fixture
def recorder(pulse_server: PulseServer) -> Iterator[Recorder]:
    """A running recording of the test sink's monitor (48 kHz mono)."""
    with Recorder(pulse_server.sink, rate=RATE) as rec:
        yield rec


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated test audio: Vietnamese speech (espeak-ng), a 4 s tone, a 1 s tone (MP3)."""
    folder = tmp_path_factory.mktemp("clips")
    speech = folder / "ban-tin.wav"
    text = "Thông báo của Ủy ban nhân dân phường về phòng chống sốt xuất huyết."
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(speech), text], check=True, capture_output=True)
    tone = folder / "tone-4s.wav"
    _lavfi("sine=frequency=660:duration=4", tone)
    short = folder / "tone-1s.mp3"
    _lavfi("sine=frequency=440:duration=1", short)
    return {"speech": speech, "tone": tone, "short": short}


def _lavfi(source: str, out: Path) -> None:
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-af", "volume=0.5"]
    subprocess.run([*argv, "-ar", str(RATE), str(out)], check=True, capture_output=True)
