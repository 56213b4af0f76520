"""The district and its wards as the district tests run them: a district server on a fresh PostgreSQL
database (the real console app under uvicorn, with a token per ward), and ward "thu"'s station PC on
its own SQLite database, linked to it. Test modules import the fixtures by name."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from broadcaster import airlog
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.schedules import load_schedule
from broadcaster.services import forwarding, users, web_auth
from broadcaster.services.district_http import HttpDistrict
from broadcaster.services.stations import find_station, import_schedule
from broadcaster.web.server import create_web

T0 = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
WARDS = ("thu", "hai")


def ward_toml(code: str, period_end: str = "2026-12-31") -> str:
    return f"""
[station]
code = "{code}"
name = "Đài phường {code}"
timezone = "Asia/Ho_Chi_Minh"
ident = "Đài phường."
allowed_hours = ["05:00-19:00"]

[[session]]
code = "sang"
name = "Buổi sáng"
weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "06:00"
max_minutes = 15

[[campaign]]
code = "ma-tuy-2026"
title = "Phòng, chống ma túy năm 2026"
plan_ref = "Kế hoạch số 12/KH-UBND"
period_start = 2026-01-01
period_end = {period_end}
topics = ["Ma túy"]

[campaign.target]
min_airings_per_month = 20
min_minutes_per_month = 15.0
max_gap_days = 7

[[user]]
name = "hung"
full_name = "Phạm Văn Hùng"
role = "operator"

[[user]]
name = "khoi"
full_name = "Vũ Văn Khôi"
role = "leader"

[[bulletin]]
key = "tin-phuong"
campaign = "ma-tuy-2026"
title = "Tin của phường"
agency = "Công an phường"
approved_by = "khoi"
text = "Công an phường đề nghị bà con báo tin về tụ điểm ma túy qua đường dây nóng."
"""


def env(monkeypatch: pytest.MonkeyPatch, home: Path, url: str | None = None) -> None:
    for name in [n for n in os.environ if n.startswith("BROADCASTER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BROADCASTER_HOME", str(home))
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    monkeypatch.setenv("BROADCASTER_PLAYOUT_PLAYER", "file")
    if url is not None:
        monkeypatch.setenv("BROADCASTER_DATABASE_URL", url)


def import_wards(app: App, home: Path, codes: tuple[str, ...], period_end: str = "2026-12-31") -> None:
    for code in codes:
        path = home / f"{code}.toml"
        path.write_text(ward_toml(code, period_end), encoding="utf-8")
        with app.tx() as s:
            import_schedule(s, load_schedule(path), actor="test", now=app.clock.now(), speak=app.speak)


@dataclass
class District:
    app: App
    url: str
    tokens: dict[str, str]
    server: object | None = None
    thread: threading.Thread | None = None
    port: int = 0

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(create_web(self.app), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = server = uvicorn.Server(config)
        self.thread = threading.Thread(target=server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the district server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True  # type: ignore[attr-defined]
        self.thread.join(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def campaign_end() -> str:
    """The last day of the wards' campaign (a module may override it: dispatches need a running one)."""
    return "2026-12-31"


@pytest.fixture
def district(
    pg_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, campaign_end: str
) -> Iterator[District]:
    """A district server on a fresh PostgreSQL database with two wards and a token for each."""
    name = f"district_{os.getpid()}_{time.monotonic_ns()}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    home = tmp_path / "district"
    env(monkeypatch, home, pg_server.replace("/postgres?", f"/{name}?"))
    app = build_app(load_config())
    app.init()
    import_wards(app, home, WARDS, campaign_end)
    now = app.clock.now()
    with app.tx() as s:
        users.add_user(s, "quan", "admin", "Trần Văn Quân", actor="test", now=now)
        tokens = {
            code: web_auth.create_api_token(
                s, actor="quan", name=f"đài {code}", now=now, station_code=code
            ).token
            for code in WARDS
        }
    port = free_port()
    found = District(app, f"http://127.0.0.1:{port}", tokens, port=port)
    found.start()
    yield found
    found.stop()
    app.engine.dispose()


@pytest.fixture
def ward(
    district: District, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, campaign_end: str
) -> Iterator[App]:
    """The station PC of ward "thu": its own SQLite database, linked to the district."""
    home = tmp_path / "thu"
    env(monkeypatch, home)
    app = build_app(load_config())
    app.init()
    import_wards(app, home, ("thu",), campaign_end)
    forwarding.save_link(home, district.url, district.tokens["thu"])
    yield app
    app.engine.dispose()


def air(app: App, count: int, first: int = 0) -> None:
    """`count` completed airings logged through the application (each commit signs the head)."""
    for n in range(first, first + count):
        with app.tx() as s:
            station = find_station(s, "thu")
            start = T0 + timedelta(hours=n)
            entry = AsRunEntry(
                Outcome.COMPLETED,
                Trigger.SCHEDULE,
                planned_start=start,
                actual_start=start + timedelta(milliseconds=12),
                actual_end=start + timedelta(seconds=60),
                played_ms=60_000,
                clip_ms=60_000,
                campaign_code="ma-tuy-2026",
                title=f"Bản tin số {n + 1}",
            )
            airlog.append(s, station.id, entry, recorded_by="daemon", now=start + timedelta(seconds=61))


def sync(app: App, district: District, batch: int = 500) -> forwarding.SyncResult:
    port = HttpDistrict(district.url, district.tokens["thu"], timeout_s=5)
    return forwarding.sync_up(app.sessions, "thu", port, app.witness, now=app.clock.now(), batch=batch)
