"""Shared fixtures: a clean environment per test, a private PostgreSQL server, and a ready App."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from google_fake import audio_probe, fake_google, google_mp3
from seedpaths import SEED
from sqlalchemy import create_engine, text

from broadcaster.app import App, build_app
from broadcaster.config import load_config

# The gTTS interceptor's fixtures, for every test that renders through gTTS's own code.
__all__ = ["audio_probe", "fake_google", "google_mp3"]
_db_counter = itertools.count()

# The district server and a linked ward (fixtures `district`, `ward`, `campaign_end`).
pytest_plugins = ["district_world"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No BROADCASTER_* from the developer's shell; a private home per test; no network TTS."""
    for name in list(os.environ):
        if name.startswith("BROADCASTER_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("BROADCASTER_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One PostgreSQL server for the whole run."""
    from pg import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded default and on PostgreSQL (a fresh database each time)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    server: str = request.getfixturevalue("pg_server")
    name = f"t{os.getpid()}_{next(_db_counter)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.replace("/postgres?", f"/{name}?")


@pytest.fixture
def app(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """An initialised App on SQLite with the offline engine and the file sink."""
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    monkeypatch.setenv("BROADCASTER_PLAYOUT_PLAYER", "file")
    application = build_app(load_config())
    application.init()
    yield application
    application.engine.dispose()


@pytest.fixture
def seeded(app: App) -> App:
    """The App with the seed schedule imported."""
    from broadcaster.schedules import load_schedule
    from broadcaster.services.stations import import_schedule

    with app.tx() as s:
        import_schedule(s, load_schedule(SEED), actor="test", now=app.clock.now(), speak=app.speak)
    return app
