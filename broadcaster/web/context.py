"""What every page shares: the signed-in user, CSRF, templates, flash messages and Vietnamese errors.

Pages are thin: they read the request, call one service function with the signed-in user as the
actor (the service checks the role), and render a template. Nothing here decides who may do what.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from broadcaster import labels
from broadcaster.errors import BroadcasterError, PermissionDenied

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from broadcaster.app import App
    from broadcaster.store.models import UserRow

SESSION_COOKIE = "bc_session"
CSRF_COOKIE = "bc_csrf"
FLASH_COOKIE = "bc_flash"
STATIC = Path(__file__).with_name("static")


@dataclass(frozen=True)
class WebSettings:
    """How the console runs: idle timeout, cookie security, the station it serves."""

    idle: timedelta = timedelta(minutes=30)
    secure_cookies: str = "auto"  # "auto": Secure when the request came over HTTPS (or via a TLS proxy)
    station: str | None = None


class CsrfError(PermissionDenied):
    """A form arrived without the token of the page that showed it."""


class SignInRequired(BroadcasterError):
    """The page needs a signed-in user; the browser is sent to the sign-in page."""


@dataclass
class Web:
    """The console's shared parts: the App (database, clock, services' parts), templates and secret."""

    app: App
    settings: WebSettings
    secret: bytes
    templates: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.templates = _environment(self)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One unit of work."""
        with self.app.tx() as session:
            yield session

    def now(self) -> datetime:
        """The App's clock (so a test's fake clock drives the console too)."""
        return self.app.clock.now()

    def csrf_for(self, cookie: str) -> str:
        """The form token that belongs to a browser's CSRF cookie."""
        return hmac.new(self.secret, cookie.encode(), sha256).hexdigest()


def web_of(request: Request) -> Web:
    """The Web of the running console."""
    web: Web = request.app.state.web
    return web


def load_secret(path: Path) -> bytes:
    """The console's secret in the home, made on first use (never in the repository)."""
    if not path.is_file():
        from broadcaster.files import write_atomic

        write_atomic(path, secrets.token_hex(32).encode())
        path.chmod(0o600)
    return path.read_bytes().strip()


def current_user(request: Request) -> UserRow | None:
    """The signed-in user of this request, or None (cached on the request)."""
    if "user" in request.state._state:
        user: UserRow | None = request.state.user
        return user
    from broadcaster.services import web_auth

    web = web_of(request)
    with web.tx() as s:
        user = web_auth.session_user(
            s, request.cookies.get(SESSION_COOKIE), now=web.now(), idle=web.settings.idle
        )
    request.state.user = user
    return user


def require_user(request: Request) -> UserRow:
    """The signed-in user; otherwise the page answers with the sign-in page (see the error handler)."""
    user = current_user(request)
    if user is None:
        raise SignInRequired("Cần đăng nhập.", "Đăng nhập để tiếp tục.")
    return user


def csrf_token(request: Request) -> str:
    """The token to put in this page's forms."""
    cookie = request.cookies.get(CSRF_COOKIE) or request.state._state.get("new_csrf_cookie")
    if not cookie:
        cookie = secrets.token_urlsafe(24)
        request.state.new_csrf_cookie = cookie
    return web_of(request).csrf_for(cookie)


async def csrf_guard(request: Request) -> None:
    """Every unsafe request of a page carries the form token of its browser (API calls use a bearer token)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.url.path.startswith("/api/") and (
        request.headers.get("authorization", "").startswith("Bearer ")
        or SESSION_COOKIE not in request.cookies
    ):
        # The API signs in by bearer token only; with no session cookie there is nothing to forge, and the
        # API answers 401 itself (a JSON client gets "no token", not "reload the form").
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get("x-csrf-token", "")
    if not sent:
        form = await request.form()
        value = form.get("csrf", "")
        sent = value if isinstance(value, str) else ""
    if not cookie or not hmac.compare_digest(sent, web_of(request).csrf_for(cookie)):
        raise CsrfError(
            "Biểu mẫu đã hết hạn hoặc không gửi từ trang của đài.", "Tải lại trang rồi làm lại thao tác."
        )


def cookie_secure(request: Request) -> bool:
    """Whether cookies get the Secure flag for this request."""
    mode = web_of(request).settings.secure_cookies
    if mode in ("always", "never"):
        return mode == "always"
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def finish(request: Request, response: Response) -> Response:
    """Set the cookies this request made (CSRF), with the secure flags."""
    new = request.state._state.get("new_csrf_cookie")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=cookie_secure(request), path="/"
        )
    return response


def flash(response: Response, message: str, kind: str = "ok") -> Response:
    """A one-time message shown on the next page (after a redirect)."""
    response.set_cookie(FLASH_COOKIE, quote(f"{kind}|{message}"), max_age=60, httponly=True, samesite="lax")
    return response


def redirect(url: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
    """303 See Other to a page, optionally with a flash message (post/redirect/get)."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, message, kind)
    return response


def _take_flash(request: Request) -> tuple[str, str] | None:
    from urllib.parse import unquote

    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, message = unquote(raw).partition("|")
    return (kind if kind in ("ok", "bad", "warn") else "ok", message)


# The console's menu: (path, label, roles that see it; empty = everyone signed in).
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/", "Tổng quan", ()),
    ("/ban-tin", "Bản tin", ()),
    ("/duyet", "Duyệt tin", ("leader", "admin", "inspector")),
    ("/lich-phat", "Lịch phát", ()),
    ("/khan-cap", "Phát khẩn cấp", ("operator", "leader", "admin")),
    ("/nhat-ky", "Nhật ký phát sóng", ()),
    ("/bao-cao", "Báo cáo", ()),
    ("/quan-tri", "Quản trị", ("admin", "inspector")),  # the inspector reads people and settings
    ("/huyen", "Các phường", ("leader", "admin", "inspector")),  # a district server only
)
# Menu items a station's own console does not show (it serves one ward).
DISTRICT_ONLY = {"/huyen"}
# Menu items of one station's work: a district server that serves no station of its own hides them.
STATION_ONLY = {"/", "/ban-tin", "/duyet", "/lich-phat", "/khan-cap", "/nhat-ky", "/bao-cao"}
# How long a console that serves one station waits before it looks again for more (a new district).
DISTRICT_RECHECK_S = 60.0


def nav_for(
    user: UserRow | None, path: str, *, district: bool = False, station: bool = True
) -> list[dict[str, Any]]:
    """The menu items this user sees, the current one marked.

    `district`: this console is a district server; `station`: it also serves a station of its own.
    """
    if user is None:
        return []
    items = []
    for href, text, roles in NAV:
        if roles and user.role not in roles:
            continue
        if (href in DISTRICT_ONLY and not district) or (href in STATION_ONLY and not station):
            continue
        current = path == href if href == "/" else path == href or path.startswith(href + "/")
        items.append({"href": href, "text": text, "current": current})
    return items


def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> Response:
    """A page from a template, with the user, menu, CSRF token and flash message it needs."""
    web = web_of(request)
    user = request.state._state.get("user")
    page = web.templates.get_template(template)
    values = {
        "request": request,
        "user": user,
        "nav": _nav(web, user, request.url.path),
        "csrf": csrf_token(request),
        "flash": _take_flash(request),
        "station_name": _station_name(web),
        **(context or {}),
    }
    response = HTMLResponse(page.render(values), status_code=status)
    if values["flash"]:
        response.delete_cookie(FLASH_COOKIE)
    return finish(request, response)


def _nav(web: Web, user: UserRow | None, path: str) -> list[dict[str, Any]]:
    if user is None:
        return []
    district = serves_district(web)
    return nav_for(user, path, district=district, station=not district or bool(web.settings.station))


def district_only(web: Web) -> bool:
    """A district server that serves no station of its own: its console is the district's pages."""
    return not web.settings.station and serves_district(web)


def serves_district(web: Web) -> bool:
    """Whether this console is a district server: its database holds more than one station.

    Once true it stays true; a station's own console looks again at most once a minute.
    """
    known: tuple[bool, float] | None = getattr(web, "_district_cache", None)
    clock = time.monotonic()
    if known is not None and (known[0] or clock - known[1] < DISTRICT_RECHECK_S):
        return known[0]
    from sqlalchemy import func, select

    from broadcaster.store.models import StationRow

    with web.tx() as s:
        many = (s.scalar(select(func.count(StationRow.id))) or 0) > 1
    web._district_cache = (many, clock)  # type: ignore[attr-defined]
    return many


def _station_name(web: Web) -> str:
    cached: str | None = getattr(web, "_station_name_cache", None)
    if cached is not None:
        return cached
    from broadcaster.services.stations import find_station

    try:
        with web.tx() as s:
            station = find_station(s, web.settings.station)
            name = station.name
    except BroadcasterError:  # a district server serving no station of its own: the district's name
        name = web.app.config.district.name.strip() or "Đài truyền thanh"
    web._station_name_cache = name  # type: ignore[attr-defined]
    return name


def station_zone(web: Web) -> ZoneInfo:
    """The zone the console shows times in (the served station's)."""
    cached: ZoneInfo | None = getattr(web, "_zone_cache", None)
    if cached is not None:
        return cached
    from broadcaster.services.stations import find_station

    try:
        with web.tx() as s:
            zone = ZoneInfo(find_station(s, web.settings.station).timezone)
    except BroadcasterError:
        zone = ZoneInfo("Asia/Ho_Chi_Minh")
    web._zone_cache = zone  # type: ignore[attr-defined]
    return zone


def _environment(web: Web) -> Environment:
    env = Environment(
        loader=PackageLoader("broadcaster.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(moment: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
        return "" if moment is None else moment.astimezone(station_zone(web)).strftime(fmt)

    def duration(seconds: float | None) -> str:
        if seconds is None:
            return ""
        total = round(seconds)
        minutes, secs = divmod(total, 60)
        return f"{minutes} phút {secs:02d} giây" if minutes else f"{secs} giây"

    from broadcaster.reports.printable import vn_number

    env.filters.update(local=local, duration=duration, vn=vn_number)
    env.globals.update(labels=labels)
    return env
