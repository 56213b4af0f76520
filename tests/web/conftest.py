"""Web console fixtures: the seeded station with a password per role, an in-process client per role,
and a real `uvicorn` server in a thread for the browser tests."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from seedpaths import SEED
from sqlalchemy import text

from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.services import users, web_auth
from broadcaster.web.server import create_web

PASSWORD = "mat-khau-thu-nghiem"
# One signed-in person per role (the seed has lan, khoi, hung; the tests add an admin and an inspector).
PEOPLE = {"officer": "lan", "leader": "khoi", "operator": "hung", "admin": "quan", "inspector": "tra"}


def _prepare(app: App) -> None:
    """Import the seed, add an admin and an inspector, and set every person's password."""
    from broadcaster.schedules import load_schedule
    from broadcaster.services.stations import import_schedule

    now = app.clock.now()
    with app.tx() as s:
        import_schedule(s, load_schedule(SEED), actor="test", now=now, speak=app.speak)
    with app.tx() as s:
        users.add_user(s, "quan", "admin", "Trần Văn Quân", actor="test", now=now)
        users.add_user(s, "tra", "inspector", "Lê Thị Tra", actor="test", now=now)
        for name in PEOPLE.values():
            web_auth.set_password(s, name, PASSWORD, actor=name, now=now)


WEB_ENV = {"BROADCASTER_SPEECH_ENGINES": "espeak", "BROADCASTER_PLAYOUT_PLAYER": "file"}


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One prepared home for the run (importing the seed renders its bulletins: seconds, not once a test)."""
    home = tmp_path_factory.mktemp("web-template") / "home"
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("BROADCASTER_")]:
            mp.delenv(name)
        mp.setenv("BROADCASTER_HOME", str(home))
        for name, value in WEB_ENV.items():
            mp.setenv(name, value)
        app = build_app(load_config())
        app.init()
        _prepare(app)
        app.engine.dispose()
    return home


@pytest.fixture
def web_app(web_template: Path, clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """A private copy of the prepared home: the seed station, a person per role, each with PASSWORD."""
    shutil.copytree(web_template, clean_env)
    for name, value in WEB_ENV.items():
        monkeypatch.setenv(name, value)
    app = build_app(load_config())
    # Stored audio paths are absolute: point them at this test's copy of the files.
    old, new = str(web_template), str(clean_env)
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE render SET path = replace(path, :old, :new)"), {"old": old, "new": new})
        conn.execute(
            text("UPDATE bulletin_revision SET source_audio = replace(source_audio, :old, :new)"),
            {"old": old, "new": new},
        )
    app.init()
    yield app
    app.engine.dispose()


def csrf_of(html: str) -> str:
    """The CSRF token a page put in its forms."""
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert found, "the page has no CSRF token"
    return found.group(1)


class Browser:
    """A TestClient that signs in as one person and posts forms with the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.token = ""

    def sign_in(self, name: str, password: str = PASSWORD) -> None:
        """Sign in through the form, as a person would."""
        page = self.client.get("/dang-nhap")
        self.token = csrf_of(page.text)
        answer = self.client.post(
            "/dang-nhap",
            data={"name": name, "password": password, "csrf": self.token},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text

    def get(self, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        """GET, remembering the page's CSRF token."""
        answer = self.client.get(url, **kwargs)  # type: ignore[arg-type]
        if "text/html" in answer.headers.get("content-type", "") and 'name="csrf' in answer.text:
            self.token = csrf_of(answer.text)
        return answer

    def post(self, url: str, data: dict[str, object] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        """POST a form with the CSRF token (fetch a page first so there is one)."""
        if not self.token:
            self.get("/dang-nhap")
        body = {"csrf": self.token, **(data or {})}
        return self.client.post(url, data=body, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def browser(web_app: App) -> Callable[[str | None], Browser]:
    """browser(role) → a client signed in as that role's person (None: signed out)."""
    made: list[TestClient] = []

    def make(role: str | None) -> Browser:
        client = TestClient(create_web(web_app), raise_server_exceptions=False)
        made.append(client)
        person = Browser(client)
        if role is not None:
            person.sign_in(PEOPLE[role])
        return person

    yield make  # type: ignore[misc]
    for client in made:
        client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(web_app: App) -> Iterator[str]:
    """A real uvicorn server of the console on a free local port; yields its base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_web(web_app), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (its own browser download cannot work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def null_sink() -> Iterator[str | None]:
    """A warm PulseAudio null sink for a `broadcaster run` started by a test (None: no PulseAudio here)."""
    import os

    from pulse import PulseServer

    server = PulseServer(f"web_test_{os.getpid()}")
    try:
        server.start()
    except RuntimeError:
        yield None
        return
    try:
        yield server.sink
    finally:
        server.stop()
