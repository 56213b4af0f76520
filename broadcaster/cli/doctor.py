"""`broadcaster doctor`: the station's self-check, one Vietnamese line per check, `--json`, exit 1 on LỖI."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import click

from broadcaster.cli.common import State, json_option, pass_state, print_json
from broadcaster.services.doctor import Check, Status, failed, line, run_checks, summary

if TYPE_CHECKING:
    from broadcaster.app import App

_LOG_LEVEL = {Status.OK: logging.INFO, Status.WARN: logging.WARNING, Status.FAIL: logging.ERROR}


def self_check(app: App, *, play_test: bool = False) -> list[Check]:
    """Every check of this station PC, now."""
    return run_checks(app.doctor_probes(), app.doctor_settings(play_test=play_test), now=app.clock.now())


def log_self_check(app: App, logger: logging.Logger | None = None) -> list[Check]:
    """Run the checks and log one line per check (the daemon at start); never raises."""
    log = logger or logging.getLogger("broadcaster.doctor")
    try:
        checks = self_check(app)
    except Exception as exc:  # the daemon must start even if the self-check itself breaks
        log.warning("Tự kiểm tra không chạy được: %s: %s", type(exc).__name__, exc)
        return []
    for check in checks:
        log.log(_LOG_LEVEL[check.status], "Tự kiểm tra: %s", line(check))
    log.info("Tự kiểm tra xong. %s", summary(checks))
    return checks


@click.command()
@click.option("--play-test", is_flag=True, help="Phát thử một tiếng bíp ngắn ra đầu ra âm thanh.")
@json_option
@pass_state
def doctor(state: State, play_test: bool, as_json: bool) -> None:
    """Tự kiểm tra trạm: chương trình, giọng đọc, phông chữ, loa, cơ sở dữ liệu, ổ đĩa, đồng hồ.

    Mỗi dòng một mục: ĐẠT, CẢNH BÁO hoặc LỖI, điều tìm thấy và cách xử lý. Mã thoát 1 nếu có LỖI.
    """
    checks = self_check(state.app, play_test=play_test)
    if as_json:
        counts = {s.value: sum(c.status is s for c in checks) for s in Status}
        print_json({"ok": not failed(checks), "counts": counts, "checks": [c.as_dict() for c in checks]})
    else:
        for check in checks:
            click.echo(line(check))
        click.echo(summary(checks))
    if failed(checks):
        sys.exit(1)


COMMANDS = [doctor]
