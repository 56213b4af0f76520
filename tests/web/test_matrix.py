"""Every route of the console × every role (and signed out): the allowed answer, never a server error.

The per-area tests check what each page does; this one walks the routes themselves, so that a new route
cannot be added without meeting the rules: sign-in first, the role checked, CSRF on every change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from conftest import PEOPLE, Browser
from fastapi.routing import APIRoute

from broadcaster.app import App
from broadcaster.services.audit import record  # noqa: F401  (the audit trail is what "nothing changed" reads)
from broadcaster.store.models import AuditRow
from broadcaster.web.context import NAV
from broadcaster.web.pages import PAGE_MODULES

PUBLIC = {("GET", "/dang-nhap"), ("POST", "/dang-nhap")}
# Path parameters filled with objects the seed has (ids that exist; unknown ones are the pages' own tests).
SAMPLES = {
    "bulletin_id": "1",
    "number": "1",
    "airing_id": "1",
    "row_id": "1",
    "exception_id": "1",
    "token_id": "1",
    "name": "lan",
    "code": "sang",
    "key": "0" * 64,
}


def _routes(router: object) -> Iterator[APIRoute]:
    for route in getattr(router, "routes", []):
        if isinstance(route, APIRoute):
            yield route
        else:
            yield from _routes(getattr(route, "original_router", route))


def _paths(module: object) -> Iterator[tuple[str, str]]:
    api = module.__name__.endswith(".api")  # type: ignore[attr-defined]
    for route in _routes(module.router):  # type: ignore[attr-defined]
        path = route.path if not api or route.path.startswith("/api/") else "/api" + route.path
        for method in route.methods:
            yield method, path


ROUTES = sorted({pair for module in PAGE_MODULES for pair in _paths(module)})


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES.get(m.group(1), "1"), path)


def _audit_count(app: App) -> int:
    with app.tx() as s:
        return len(s.query(AuditRow.id).all())


def test_the_walk_sees_every_area() -> None:
    paths = {p for _, p in ROUTES}
    for href, _text, _roles in NAV:
        assert href in paths, f"menu item {href} has no route"
    assert len(ROUTES) > 40


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if r not in PUBLIC])
def test_signed_out_gets_sign_in_or_401_and_never_a_page(
    browser: Callable[[str | None], Browser], method: str, path: str
) -> None:
    person = browser(None)
    person.get("/dang-nhap")
    url = _url(path)
    answer = (person.get if method == "GET" else person.post)(url, follow_redirects=False)
    if path.startswith("/api/"):
        assert answer.status_code == 401, answer.text
    elif path == "/dang-xuat":
        assert answer.status_code == 303
    else:
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap"), answer.text


@pytest.mark.parametrize(
    ("method", "path"), [r for r in ROUTES if r[0] == "POST" and not r[1].startswith("/api/")]
)
def test_a_change_without_the_form_token_is_refused_and_changes_nothing(
    web_app: App, browser: Callable[[str | None], Browser], method: str, path: str
) -> None:
    person = browser("admin")
    before = _audit_count(web_app)
    answer = person.client.post(_url(path), data={"title": "x", "text": "x"}, follow_redirects=False)
    assert answer.status_code == 403, answer.text
    assert _audit_count(web_app) == before


@pytest.mark.parametrize("role", sorted(PEOPLE))
def test_every_page_answers_each_role_as_the_menu_promises(
    browser: Callable[[str | None], Browser], role: str
) -> None:
    person = browser(role)
    for method, path in ROUTES:
        if method != "GET" or path.startswith("/api/") or (method, path) in PUBLIC:
            continue
        answer = person.get(_url(path), follow_redirects=False)
        assert answer.status_code < 500, (role, path, answer.text[:300])
        if "{" in path:
            continue
        menu = next((roles for href, _t, roles in NAV if href == path), None)
        if menu is not None:
            expected = 200 if not menu or role in menu else 403
            assert answer.status_code == expected, (role, path, answer.status_code)
