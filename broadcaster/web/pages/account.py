"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from broadcaster.errors import InputError
from broadcaster.services import web_auth
from broadcaster.web.context import (
    SESSION_COOKIE,
    cookie_secure,
    current_user,
    redirect,
    render,
    require_user,
    web_of,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this console (never another site) after signing in."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/dang-nhap", include_in_schema=False)
def sign_in_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    if current_user(request) is not None:
        return redirect(_safe_next(next))
    return render(request, "account/sign_in.html", {"next": _safe_next(next), "name": "", "error": None})


@router.post("/dang-nhap", include_in_schema=False)
def sign_in(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the name and password; set the session cookie."""
    web = web_of(request)
    client = f"{request.client.host if request.client else ''} {request.headers.get('user-agent', '')}"
    with web.tx() as s:
        signed = web_auth.sign_in(s, name, password, client=client.strip(), now=web.now())
    if isinstance(signed, web_auth.SignInRefused):
        context = {"next": _safe_next(next), "name": name, "error": signed.message}
        return render(request, "account/sign_in.html", context, status=400)
    response = redirect(_safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )
    return response


@router.post("/dang-xuat", include_in_schema=False)
def sign_out(request: Request) -> Response:
    """End this browser's session."""
    web = web_of(request)
    with web.tx() as s:
        web_auth.sign_out(s, request.cookies.get(SESSION_COOKIE), now=web.now())
    response = redirect("/dang-nhap", "Đã đăng xuất.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/tai-khoan", include_in_schema=False)
def account_page(request: Request) -> Response:
    """The signed-in user's account: who they are, their role, and the password form."""
    require_user(request)
    return render(request, "account/account.html", {"errors": {}})


@router.post("/tai-khoan/mat-khau", include_in_schema=False)
def change_password(
    request: Request,
    old: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    again: Annotated[str, Form()] = "",
) -> Response:
    """Change one's own password (the old one first); other sessions of the user end."""
    user = require_user(request)
    web = web_of(request)
    errors: dict[str, str] = {}
    if new != again:
        errors["again"] = "Hai lần nhập mật khẩu mới không giống nhau."
    else:
        try:
            with web.tx() as s:
                fresh = s.merge(user)
                web_auth.change_own_password(s, fresh, old, new, now=web.now())
        except InputError as exc:
            errors["old" if exc.field == "old" else "new"] = exc.one_line()
    if errors:
        return render(request, "account/account.html", {"errors": errors}, status=400)
    response = redirect("/dang-nhap", "Đã đổi mật khẩu. Đăng nhập lại bằng mật khẩu mới.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
