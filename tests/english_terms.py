"""The domain's English terms, and a check that text a station user reads holds none of them.

What a person reads may quote command lines ("xem 'broadcaster schedule plan --help'"), options
("Chạy lại với --apply"), file names ("phu-thu-2023.toml") and paths: those are syntax the user types,
not words to read, so `readable_text` removes exactly them (command words only after "broadcaster",
options only with their dashes, files only with a known extension, paths only as given) and nothing
else. Every other occurrence of a term, as a whole word in any case, is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import click

# The codes and words of the domain a careless string would print: values of the enums, entity names,
# units and states. A plural "s" is matched too.
TERMS: tuple[str, ...] = (
    # outcomes, triggers, priorities
    "completed",
    "interrupted",
    "failed",
    "missed",
    "skipped",
    "schedule",
    "scheduled",
    "manual",
    "emergency",
    "normal",
    "priority",
    # bulletin statuses and revision approvals
    "draft",
    "submitted",
    "approved",
    "rejected",
    "retired",
    "pending",
    # roles
    "officer",
    "leader",
    "operator",
    "admin",
    "inspector",
    # entities
    "bulletin",
    "campaign",
    "session",
    "station",
    "user",
    "exception",
    "airing",
    "revision",
    "target",
    "recording",
    "outcome",
    "trigger",
    "cancel",
    "extra",
    # units and periods
    "minute",
    "second",
    "week",
    "month",
    "quarter",
    "year",
)

_TERM = re.compile(r"\b(?:" + "|".join(TERMS) + r")s?\b", re.IGNORECASE)
_FILE = re.compile(
    r"[\w.-]*\.(?:toml|db|pdf|docx|csv|json|mp3|wav|ogg|opus|flac|m4a|txt|pem|png|lock)\b", re.IGNORECASE
)
_OPTION = re.compile(r"(?<![\w-])--?[a-z][\w-]*")


@cache
def command_words() -> frozenset[str]:
    """The name of every command and subcommand of `broadcaster`."""
    from broadcaster.cli.main import cli

    words: set[str] = set()

    def walk(group: click.Group, ctx: click.Context) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            words.add(name)
            if isinstance(command, click.Group):
                walk(command, click.Context(command, parent=ctx, info_name=name))

    walk(cli, click.Context(cli, info_name="broadcaster"))
    return frozenset(words)


@cache
def _command_line() -> re.Pattern[str]:
    words = "|".join(sorted(command_words(), key=len, reverse=True))
    return re.compile(rf"\bbroadcaster(?:\s+(?:--?[a-z][\w-]*|(?:{words})\b|\d+))*")


def readable_text(text: str, paths: Iterable[str] = ()) -> str:
    """The text without the command lines, options, file names and the given paths it quotes."""
    for path in sorted(paths, key=len, reverse=True):
        text = text.replace(path, "<thư mục>")
    text = _command_line().sub("<lệnh>", text)
    text = _FILE.sub("<tệp>", text)
    return _OPTION.sub("<tùy chọn>", text)


def english_terms(text: str, paths: Iterable[str] = ()) -> list[str]:
    """The domain's English terms that appear, as whole words, in what a person reads of `text`."""
    return sorted({m.group(0) for m in _TERM.finditer(readable_text(text, paths))})
