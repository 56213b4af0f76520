"""What went wrong, in one line an operator can act on: disk faults by their cause, not a traceback."""

from __future__ import annotations

import errno
from pathlib import Path

from broadcaster.errors import BroadcasterError, PlayoutError
from broadcaster.playout.players.base import os_reason

# A write that failed for one of these reasons is the disk's fault, not the audio's.
_WRITE_FAULTS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT, errno.EIO}


class ClaimLost(PlayoutError):
    """Some airings of the programme were claimed by another daemon: this one does not air them."""


class AlreadyTaken(PlayoutError):
    """The programme has gone on air or been logged: a late prepare job must not build or claim it again."""


def _os_error(exc: BaseException) -> OSError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def fault_cause(exc: BaseException) -> str:
    """One line for a failure: a disk fault names the folder and its cause, else the error's own words."""
    os_exc = _os_error(exc)
    if os_exc is not None and os_exc.errno in _WRITE_FAULTS:
        where = Path(os_exc.filename).parent if os_exc.filename else None
        return f"không ghi được {where or 'tệp'}: {os_reason(os_exc)}"
    if isinstance(exc, BroadcasterError):
        return exc.one_line()
    if os_exc is not None:
        return f"{os_exc.filename or 'tệp'}: {os_reason(os_exc)}"
    return f"{type(exc).__name__}: {exc}"
