"""The web console: one FastAPI app over the services, pages rendered on the server, a JSON API.

`create_web` only assembles: the page modules (one per area, each with its `router`), the static
files shipped with the package, the CSRF guard on every unsafe request, and the Vietnamese error
pages. It never plays audio: the daemon (`broadcaster run`) does.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from broadcaster.errors import BroadcasterError, NotFoundError, PermissionDenied
from broadcaster.web.context import (
    STATIC,
    SignInRequired,
    Web,
    WebSettings,
    csrf_guard,
    load_secret,
    render,
)

if TYPE_CHECKING:
    from broadcaster.app import App

log = logging.getLogger("broadcaster.web")


def _pages() -> list[object]:
    """Every page module of the console, in menu order (each has a `router`)."""
    from broadcaster.web.pages import PAGE_MODULES

    return list(PAGE_MODULES)


def create_web(app: App, settings: WebSettings | None = None) -> FastAPI:
    """The ASGI app of the console for one App (database, clock, services' parts)."""
    if settings is None:
        w = app.config.web
        settings = WebSettings(
            idle=timedelta(minutes=w.idle_minutes),
            secure_cookies=w.secure_cookies,
            station=app.config.station.code or None,
        )
    web = Web(app, settings, load_secret(app.config.home / "web-secret"))
    api = FastAPI(
        title="broadcaster",
        description="API của đài truyền thanh phường",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_guard)],
    )
    api.state.web = web
    # Pages travel compressed (the week view is ~300 kB of HTML, ~25 kB gzipped, for a phone on the
    # ward's Wi-Fi); audio, images and fonts are left as they are.
    api.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=5)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in _pages():
        api.include_router(module.router)  # type: ignore[attr-defined]
    _errors(api)
    return api


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _problem(request: Request, status: int, title: str, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def _errors(api: FastAPI) -> None:
    """Vietnamese pages (or JSON under /api/) for every failure; a traceback only in the server's log."""

    @api.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": exc.one_line(), "status": 401}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/dang-nhap?next={quote(target)}", status_code=303)

    @api.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return _problem(request, 404, "Không tìm thấy", exc.one_line())

    @api.exception_handler(PermissionDenied)
    async def denied(request: Request, exc: PermissionDenied) -> Response:
        return _problem(request, 403, "Không được phép", exc.one_line())

    @api.exception_handler(BroadcasterError)
    async def refused(request: Request, exc: BroadcasterError) -> Response:
        return _problem(request, 400, "Không thực hiện được", exc.one_line())

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _problem(request, 404, "Không tìm thấy", "Trang này không có. Quay về trang Tổng quan.")
        if exc.status_code == 405:
            return _problem(request, 405, "Không thực hiện được", "Thao tác này không dùng được ở đây.")
        return _problem(request, exc.status_code, "Không thực hiện được", "Yêu cầu không hợp lệ.")

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(str(err.get("loc", ["", "?"])[-1]) for err in exc.errors())
        return _problem(request, 400, "Thiếu thông tin", f"Thiếu hoặc sai ô: {fields}. Điền đủ rồi gửi lại.")

    @api.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("lỗi máy chủ ở %s %s", request.method, request.url.path)
        return _problem(
            request,
            500,
            "Lỗi máy chủ",
            "Máy chủ gặp lỗi khi làm việc này; chưa có gì bị thay đổi. Thử lại, hoặc báo quản trị viên.",
        )


def worker_count(configured: int) -> int:
    """Server processes: as configured, or (0) one per core, at most two."""
    return configured if configured > 0 else max(1, min(2, os.cpu_count() or 1))


def create_web_from_env() -> FastAPI:
    """The console of the App the environment configures (each worker process builds its own)."""
    from broadcaster.app import build_app
    from broadcaster.config import load_config

    return create_web(build_app(load_config()))


def serve(app: App, *, host: str, port: int, workers: int = 1) -> None:
    """Run the console with uvicorn until interrupted; with `workers` > 1, in that many processes."""
    import uvicorn

    from broadcaster.web.serving import NoDelayH11Protocol

    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "proxy_headers": True}
    options["http"] = NoDelayH11Protocol
    if workers <= 1:
        uvicorn.run(create_web(app), access_log=False, **options)
        return
    load_secret(app.config.home / "web-secret")  # made once here: every worker must sign with the same
    target = f"{__name__}:create_web_from_env"
    uvicorn.run(target, factory=True, workers=workers, access_log=False, **options)
