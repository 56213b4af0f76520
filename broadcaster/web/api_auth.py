"""Who calls the JSON API: the bearer token checked once per request, and the units of work it runs in.

A user's token acts with that user's role (the services check it); a station's token reads its own
station and changes nothing. A change is audited by its service and as an `api.request` naming the
token by its id (never its secret).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from broadcaster.services import api_access
from broadcaster.services.api_access import ApiCaller
from broadcaster.web.context import SignInRequired, Web, web_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from broadcaster.store.models import StationRow

bearer = HTTPBearer(auto_error=False, description="Mã truy cập bc_... do quản trị viên cấp ở trang Quản trị")


class TokenRefused(SignInRequired):
    """No token, or an unknown or revoked one: 401."""


def api_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> ApiCaller:
    """The caller behind the bearer token, or 401."""
    web = web_of(request)
    with web.tx() as s:
        found = api_access.api_caller(s, credentials.credentials if credentials else None, now=web.now())
    if found is None:
        raise TokenRefused(
            "Thiếu mã truy cập, hoặc mã không đúng hay đã bị thu hồi.",
            "Gửi tiêu đề Authorization: Bearer bc_… với mã do quản trị viên cấp ở trang Quản trị.",
        )
    return found


Caller = Annotated[ApiCaller, Depends(api_caller)]


@contextmanager
def read_as(request: Request, caller: ApiCaller) -> Iterator[tuple[Session, StationRow, Web]]:
    """A unit of work reading the caller's station."""
    web = web_of(request)
    with web.tx() as s:
        yield s, api_access.caller_station(s, caller, web.settings.station), web


@contextmanager
def change_as(request: Request, caller: ApiCaller) -> Iterator[tuple[Session, StationRow, Web, str]]:
    """A unit of work made as the token's user; on success the token's use is audited in it."""
    web = web_of(request)
    actor = api_access.acting_user(caller)
    with web.tx() as s:
        yield s, api_access.caller_station(s, caller, web.settings.station), web, actor
        api_access.record_api_use(s, caller, method=request.method, path=request.url.path, now=web.now())


def local(instant: datetime | None, zone: ZoneInfo) -> datetime | None:
    """An instant in the station's zone (None stays None)."""
    return instant.astimezone(zone) if instant else None


def zone_of(station: StationRow) -> ZoneInfo:
    """The station's time zone."""
    return ZoneInfo(station.timezone)
