"""Shared CLI plumbing: the lazily built App, the acting user, and table/JSON output."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from broadcaster.errors import InputError

if TYPE_CHECKING:
    from broadcaster.app import App
    from broadcaster.clock import Clock
    from broadcaster.config import Config

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Per-invocation state: options of the root group and the App built on first use."""

    def __init__(self, station: str | None) -> None:
        self.station_option = station
        self._app: App | None = None

    @property
    def app(self) -> App:
        """The App, built from the environment on first use."""
        if self._app is None:
            from broadcaster.config import load_config

            self._app = build_app(load_config())
        return self._app

    @property
    def station(self) -> str | None:
        """--station, else the configured station code."""
        return self.station_option or self.app.config.station.code or None


pass_state = click.make_pass_decorator(State)


def build_app(config: Config, clock: Clock | None = None) -> App:
    """broadcaster.app.build_app, imported on first use: the App pulls in the database layer."""
    from broadcaster.app import build_app as build

    return build(config, clock)


def actor_option(func: F) -> F:
    """--as NAME, defaulting to BROADCASTER_USER."""
    return click.option(
        "--as",
        "actor",
        default=lambda: os.environ.get("BROADCASTER_USER"),
        metavar="TÊN",
        help="Người thực hiện (mặc định: BROADCASTER_USER).",
    )(func)


def json_option(func: F) -> F:
    """--json flag."""
    return click.option("--json", "as_json", is_flag=True, help="In dữ liệu dạng JSON.")(func)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(type(value).__name__)


def print_json(data: Any) -> None:
    """Pretty JSON, UTF-8 as is."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))


def parse_date(text: str) -> date:
    """A date as YYYY-MM-DD or DD/MM/YYYY."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise InputError(f"Ngày không hợp lệ: '{text}'.", "Viết dạng 2023-03-16 hoặc 16/03/2023.")


def shorten(text: str, width: int = 40) -> str:
    """The text cut to `width` characters with an ellipsis, for a narrow table column."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
