"""One row of the station self-check: its verdict, its Vietnamese line, and Vietnamese numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from broadcaster import labels

MB = 1024 * 1024


class Status(StrEnum):
    """A check's verdict; the code is what --json prints."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


STATUS_VI = {s: labels.check_status(s.value) for s in Status}
_LABEL_WIDTH = max(len(v) for v in STATUS_VI.values())


@dataclass(frozen=True)
class Check:
    """One line of the self-check: a code, its Vietnamese name, the verdict, what was found, what to do."""

    code: str
    name: str
    status: Status
    found: str
    action: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The row for --json: codes, not labels."""
        return {
            "code": self.code,
            "name": self.name,
            "status": self.status.value,
            "found": self.found,
            "action": self.action,
            "details": dict(self.details),
        }


def line(check: Check) -> str:
    """`ĐẠT      ffmpeg: ... — what to do` as one line."""
    text = f"{STATUS_VI[check.status]:<{_LABEL_WIDTH}}  {check.name}: {check.found}"
    return f"{text} — {check.action}" if check.action else text


def summary(checks: Sequence[Check]) -> str:
    """`Kết quả: 9 đạt, 2 cảnh báo, 1 lỗi.`"""
    count = {s: sum(c.status is s for c in checks) for s in Status}
    return f"Kết quả: {count[Status.OK]} đạt, {count[Status.WARN]} cảnh báo, {count[Status.FAIL]} lỗi."


def failed(checks: Sequence[Check]) -> bool:
    """True when any check is LỖI (the command then exits 1)."""
    return any(c.status is Status.FAIL for c in checks)


def num(value: float, digits: int) -> str:
    """`value` with `digits` decimals and a decimal comma: 2,5."""
    return f"{value:.{digits}f}".replace(".", ",")


def size(n: int) -> str:
    """Bytes as kB, MB or GB with a decimal comma."""
    if n >= 1024 * MB:
        return f"{num(n / (1024 * MB), 1)} GB"
    if n >= MB:
        return f"{num(n / MB, 1)} MB"
    return f"{num(n / 1024, 0)} kB"


def offset(seconds: float) -> str:
    """A signed clock offset: +12 ms, -7,2 s."""
    sign = "+" if seconds >= 0 else "-"
    if abs(seconds) < 1:
        return f"{sign}{num(abs(seconds) * 1000, 0)} ms"
    return f"{sign}{num(abs(seconds), 1)} s"
