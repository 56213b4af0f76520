"""Declarative station and campaign files (`schedules/*.toml`): read, check and locate, as one package.

`read` parses a file and ties it up, `check` reads single values, `station` reads the `[station]`,
`[[session]]` and `[[exception]]` tables and `locate` finds the line of a key. Callers use the names
re-exported here.
"""

from __future__ import annotations

from broadcaster.schedules.check import Problem
from broadcaster.schedules.read import (
    ScheduleFile,
    ScheduleValidationError,
    UserSpec,
    load_schedule,
    parse_schedule,
)

__all__ = [
    "Problem",
    "ScheduleFile",
    "ScheduleValidationError",
    "UserSpec",
    "load_schedule",
    "parse_schedule",
]
