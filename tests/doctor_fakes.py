"""Fakes of the self-check's probes (each implements its protocol in services/probes.py), and a PATH
that lacks chosen programs, for the doctor tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from broadcaster.services.doctor import MB, Probes
from broadcaster.services.probes import (
    ClockState,
    DatabaseState,
    DiskState,
    FileStat,
    FontReport,
    LockState,
    OutputState,
    Reachability,
    ToneResult,
    ToolInfo,
    VoiceSample,
)

NOW = datetime(2024, 3, 20, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội


@dataclass
class FakeTools:
    """Every program present unless named in `missing`; the voice answers `sample`."""

    missing: set[str] = field(default_factory=set)
    sample: VoiceSample = field(default_factory=lambda: VoiceSample("vi", 120_000, True))

    def find(self, name: str) -> ToolInfo:
        """As ToolProbe.find."""
        return ToolInfo(name, None) if name in self.missing else ToolInfo(name, f"/usr/bin/{name}", "1.0")

    def speak(self, voice: str) -> VoiceSample:
        """As ToolProbe.speak."""
        return replace(self.sample, voice=voice)


@dataclass
class FakeNetwork:
    """Reachable or not; records the timeouts it was asked to honour."""

    ok: bool = True
    timeouts: list[float] = field(default_factory=list)

    def reach(self, url: str, timeout_s: float) -> Reachability:
        """As NetworkProbe.reach."""
        self.timeouts.append(timeout_s)
        return Reachability(url, self.ok, "HTTP 200" if self.ok else "hết thời gian chờ")


@dataclass
class FakeFonts:
    """A fixed font search result."""

    report: FontReport = field(default_factory=lambda: FontReport(("/f/R.ttf", "/f/B.ttf"), "", "Fake Serif"))

    def find(self) -> FontReport:
        """As FontProbe.find."""
        return self.report


@dataclass
class FakeOutput:
    """A fixed output; plays the tone when asked (or fails it when `tone_fails`)."""

    state: OutputState = field(
        default_factory=lambda: OutputState("pacat", "pacat", "", True, "PulseAudio trả lời")
    )
    tone_fails: bool = False

    def inspect(self, play_test: bool) -> OutputState:
        """As OutputProbe.inspect."""
        if not play_test:
            return self.state
        tone = ToneResult(False, 0.0, "thiết bị bận") if self.tone_fails else ToneResult(True, 0.5)
        return replace(self.state, tone=tone)


@dataclass
class FakeDatabase:
    """A fixed database state."""

    state: DatabaseState = field(
        default_factory=lambda: DatabaseState("SQLite /h/b.db", True, "0005", "0005", chains=())
    )

    def inspect(self) -> DatabaseState:
        """As DatabaseProbe.inspect."""
        return self.state


@dataclass
class FakeDisk:
    """A fixed file system: 50 GB free of 100 GB and no audio unless given."""

    state: DiskState = field(default_factory=lambda: DiskState("/h", 100 * 1024 * MB, 50 * 1024 * MB))

    def inspect(self) -> DiskState:
        """As DiskProbe.inspect."""
        return self.state


@dataclass
class FakeLock:
    """A daemon with PID 4242 holds the lock unless told otherwise."""

    state: LockState = field(default_factory=lambda: LockState("/h/daemon.lock", True, 4242, True, 1))

    def inspect(self) -> LockState:
        """As LockProbe.inspect."""
        return self.state


@dataclass
class FakeClock:
    """What a time service would say."""

    state: ClockState = field(default_factory=lambda: ClockState("chronyc", True, 0.004))

    def read(self) -> ClockState:
        """As ClockProbe.read."""
        return self.state


def healthy(**parts: object) -> Probes:
    """A machine where every check passes, with some probes replaced."""
    probes = Probes(
        tools=FakeTools(),
        network=FakeNetwork(),
        fonts=FakeFonts(),
        output=FakeOutput(),
        database=FakeDatabase(),
        disk=FakeDisk(),
        lock=FakeLock(),
        clock=FakeClock(),
    )
    return replace(probes, **parts)  # type: ignore[arg-type]


def path_without(folder: Path, *names: str) -> str:
    """A PATH of one folder holding symlinks to every program on the current PATH except `names`."""
    folder.mkdir(parents=True, exist_ok=True)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or not Path(directory).is_dir():
            continue
        for entry in Path(directory).iterdir():
            link = folder / entry.name
            if entry.name in names or link.exists() or link.is_symlink():
                continue
            link.symlink_to(entry)
    return str(folder)


def audio_file(folder: Path, name: str, size: int, modified: datetime) -> Path:
    """A file of `size` bytes whose modification time is `modified`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"\0" * size)
    os.utime(path, (modified.timestamp(), modified.timestamp()))
    return path


__all__ = ["NOW", "FileStat", "audio_file", "healthy", "path_without"]
