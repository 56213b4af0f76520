"""What the station self-check reads from the machine: one small protocol per probe and its result record.

The real implementations live in `services/system_probes.py`; tests pass fakes that implement the same
protocols. Every result is plain data, so `services/doctor.py` can judge it without touching the machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ToolInfo:
    """An external program looked up on PATH: where it is (None if absent) and its version line."""

    name: str
    path: str | None
    version: str = ""


@dataclass(frozen=True)
class VoiceSample:
    """What espeak-ng produced for a short sentence in `voice`: bytes of WAV on stdout, or why not."""

    voice: str
    wav_bytes: int
    is_wav: bool
    error: str = ""


class ToolProbe(Protocol):
    """Finds programs and makes the offline voice speak."""

    def find(self, name: str) -> ToolInfo:
        """Look `name` up on PATH."""
        ...

    def speak(self, voice: str) -> VoiceSample:
        """Run `espeak-ng -v VOICE --stdout` on a short Vietnamese sentence."""
        ...


@dataclass(frozen=True)
class Reachability:
    """Whether a URL answered (any HTTP status counts) within the timeout, and what was seen."""

    url: str
    ok: bool
    detail: str


class NetworkProbe(Protocol):
    """Asks whether a host answers over HTTP."""

    def reach(self, url: str, timeout_s: float) -> Reachability:
        """A HEAD request to `url`, bounded by `timeout_s` (name resolution included)."""
        ...


@dataclass(frozen=True)
class FontReport:
    """The report fonts found (file paths), or the one-line error of the font search."""

    paths: tuple[str, ...] = ()
    error: str = ""
    family: str = ""


class FontProbe(Protocol):
    """Looks for the fonts the printable reports embed."""

    def find(self) -> FontReport:
        """Run the reports' own font search."""
        ...


@dataclass(frozen=True)
class ToneResult:
    """Outcome of a short test tone sent to the output."""

    played: bool
    played_s: float
    detail: str = ""


@dataclass(frozen=True)
class OutputState:
    """The audio output: as configured, the player actually in use, whether it answers, the test tone."""

    configured: str
    resolved: str
    device: str
    available: bool
    detail: str
    tone: ToneResult | None = None


class OutputProbe(Protocol):
    """Inspects the configured audio output and, when asked, plays a short tone on it."""

    def inspect(self, play_test: bool) -> OutputState:
        """The output's state; a tone is played only when `play_test` is true."""
        ...


@dataclass(frozen=True)
class ChainState:
    """One station's as-run chain: rows checked and, when broken, the first bad row."""

    station: str
    rows: int
    ok: bool
    kind: str = ""  # "edited", "deleted", "inserted", "reordered"
    row_id: int | None = None
    seq: int | None = None
    message: str = ""


@dataclass(frozen=True)
class DatabaseState:
    """Whether the database opens, its migration against the code's newest, and its chains."""

    url: str
    opened: bool
    head: str
    current: str | None = None
    error: str = ""
    chains: tuple[ChainState, ...] | None = None  # None: not verified (database unusable or behind)
    chain_error: str = ""  # the as-run log could not be read


class DatabaseProbe(Protocol):
    """Opens the station database read-only in spirit: nothing is created or migrated."""

    def inspect(self) -> DatabaseState:
        """Open, read the migration, verify each station's as-run chain."""
        ...


@dataclass(frozen=True)
class FileStat:
    """One stored audio file: which folder of the home, when last written (UTC), its size."""

    folder: str
    modified: datetime
    size: int


@dataclass(frozen=True)
class DiskState:
    """Free space on the home's file system and the audio files whose growth predicts its use."""

    path: str
    total_bytes: int
    free_bytes: int
    files: tuple[FileStat, ...] = field(default_factory=tuple)


class DiskProbe(Protocol):
    """Measures the home's file system and lists renders, media and aired audio."""

    def inspect(self) -> DiskState:
        """Usage of the file system that holds the home, and its audio files."""
        ...


@dataclass(frozen=True)
class LockState:
    """The daemon's lock in the home: held or not, the PID written beside it, whether that PID runs."""

    lock_path: str
    held: bool
    pid: int | None
    pid_alive: bool | None
    own_pid: int


class LockProbe(Protocol):
    """Tries the daemon's lock without keeping it."""

    def inspect(self) -> LockState:
        """Whether a daemon holds the home's lock, and its PID."""
        ...


@dataclass(frozen=True)
class ClockState:
    """What the time service says: which tool answered, synchronised or not, offset in seconds."""

    source: str | None
    synchronised: bool | None
    offset_s: float | None
    detail: str = ""


class ClockProbe(Protocol):
    """Reads the PC clock's synchronisation from whichever time service is installed."""

    def read(self) -> ClockState:
        """Ask chrony, ntpd, systemd-timesyncd or the Windows time service, in that order."""
        ...


# -- pure parsers of the time services' output (tested on captured text) -----------------------------


def parse_chronyc_tracking(text: str) -> ClockState | None:
    """`chronyc tracking` → state; offset positive when the PC clock is ahead. None if unrecognised."""
    fields = _colon_fields(text)
    if "leap status" not in fields:
        return None
    synced = fields["leap status"].lower() != "not synchronised" and not fields.get(
        "reference id", ""
    ).startswith("00000000")
    offset: float | None = None
    match = re.match(r"([\d.]+) seconds (fast|slow)", fields.get("system time", ""))
    if match:
        offset = float(match.group(1)) * (1 if match.group(2) == "fast" else -1)
    return ClockState("chronyc", synced, offset, fields.get("reference id", ""))


def parse_ntpq_rv(text: str) -> ClockState | None:
    """`ntpq -c rv` → state (its offset is in milliseconds). None if unrecognised."""
    if "status=" not in text:
        return None
    synced = "leap_alarm" not in text and "sync_unspec" not in text
    match = re.search(r"\boffset=([-+]?\d+(?:\.\d+)?)", text)
    offset = float(match.group(1)) / 1000 if match else None
    return ClockState("ntpq", synced, offset if synced else None, "")


def parse_timedatectl(show: str, timesync: str = "") -> ClockState | None:
    """`timedatectl show` (and `timedatectl timesync-status`, if it answered) → state."""
    props = dict(line.split("=", 1) for line in show.splitlines() if "=" in line)
    if "NTPSynchronized" not in props:
        return None
    synced = props["NTPSynchronized"].strip() == "yes"
    offset: float | None = None
    match = re.search(r"Offset:\s*([-+]?\d+(?:\.\d+)?)(us|ms|s)\b", timesync)
    if match:
        offset = float(match.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[match.group(2)]
    return ClockState("timedatectl", synced, offset, "")


def parse_w32tm_status(text: str) -> ClockState | None:
    """`w32tm /query /status` (English output) → state; it does not show the offset. None if unrecognised."""
    fields = _colon_fields(text)
    if "leap indicator" not in fields:
        return None
    source = fields.get("source", "")
    synced = not fields["leap indicator"].startswith("3") and "local cmos clock" not in source.lower()
    return ClockState("w32tm", synced, None, source)


def _colon_fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out.setdefault(key.strip().lower(), value.strip())
    return out
