"""The district server over HTTP(S), as `district_port.DistrictPort`: rows and heartbeat up, bulletins down.

Every failure is one Vietnamese line (`DistrictUnreachable`) naming the server, never the token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import requests

from broadcaster import airlog
from broadcaster.services.district_port import (
    AuditEvent,
    CampaignNote,
    ChangeReport,
    Delivery,
    DistrictHead,
    DistrictUnreachable,
    Incoming,
    ScheduleChange,
)

TIMEOUT_S = 20.0


class HttpDistrict:
    """The district's JSON API at `url`, called with the station's token."""

    def __init__(self, url: str, token: str, *, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        self._timeout = timeout_s

    def head(self, station_code: str) -> DistrictHead:
        """The head the district holds for this station."""
        return _head(self._json("GET", "/api/district/head", params={"station": station_code}))

    def push(
        self, station_code: str, links: Sequence[airlog.ChainLink], signed_head: dict[str, Any] | None
    ) -> DistrictHead:
        """Send a batch of rows; the district's head after it."""
        body = {
            "station": station_code,
            "links": [
                {
                    "seq": k.seq,
                    "prev_hash": k.prev_hash,
                    "row_hash": k.row_hash,
                    "content": k.content,
                    "row_id": k.row_id,
                }
                for k in links
            ],
            "signed_head": signed_head,
        }
        return _head(self._json("POST", "/api/district/asrun", json=body))

    def heartbeat(self, station_code: str, beat: dict[str, Any]) -> None:
        """Tell the district how the station is."""
        self._json("POST", "/api/district/heartbeat", json={"station": station_code, "beat": beat})

    def inbox(self, station_code: str) -> list[Incoming]:
        """The bulletins the district sent this station and has not heard back about."""
        data = self._json("GET", "/api/district/inbox", params={"station": station_code})
        try:
            return [_incoming(item) for item in data["items"]]
        except (KeyError, TypeError, ValueError):
            raise self._malformed() from None

    def audio(self, sha256: str) -> bytes:
        """A bulletin's audio by its hash (the caller checks the bytes against it)."""
        return self._request("GET", f"/api/district/audio/{sha256}").content

    def report(self, station_code: str, deliveries: Sequence[Delivery]) -> None:
        """What the station did with each bulletin."""
        items = [
            {**asdict(d), "planned_start": d.planned_start.isoformat() if d.planned_start else None}
            for d in deliveries
        ]
        self._json("POST", "/api/district/inbox/report", json={"station": station_code, "deliveries": items})

    def audit_head(self, station_code: str) -> int:
        """The highest audit event id the district holds for this station."""
        return self._held(self._json("GET", "/api/district/audit", params={"station": station_code}))

    def push_audit(self, station_code: str, events: Sequence[AuditEvent]) -> int:
        """Send audit events; the highest id the district holds after them."""
        items = [{**asdict(e), "at": e.at.isoformat()} for e in events]
        body = {"station": station_code, "events": items}
        return self._held(self._json("POST", "/api/district/audit", json=body))

    def changes(self, station_code: str) -> list[ScheduleChange]:
        """The district's schedule changes for this station not yet reported on."""
        data = self._json("GET", "/api/district/changes", params={"station": station_code})
        try:
            return [
                ScheduleChange(
                    int(c["id"]),
                    str(c["session_code"]),
                    dict(c["values"]),
                    str(c["created_by"]),
                    datetime.fromisoformat(str(c["created_at"])),
                )
                for c in data["items"]
            ]
        except (KeyError, TypeError, ValueError):
            raise self._malformed() from None

    def report_changes(self, station_code: str, reports: Sequence[ChangeReport]) -> None:
        """What the station did with each schedule change."""
        body = {"station": station_code, "reports": [asdict(r) for r in reports]}
        self._json("POST", "/api/district/changes/report", json=body)

    def _held(self, data: Any) -> int:
        try:
            return int(data["held"])
        except (KeyError, TypeError, ValueError):
            raise self._malformed() from None

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self._request(method, path, **kwargs)
        try:
            return answer.json()
        except ValueError:
            raise self._malformed() from None

    def _malformed(self) -> DistrictUnreachable:
        return DistrictUnreachable(
            f"Máy chủ huyện {self.url} trả lời không đúng định dạng.",
            "Kiểm tra địa chỉ máy chủ huyện (có đúng là broadcaster web của huyện không).",
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            answer = self._session.request(method, self.url + path, timeout=self._timeout, **kwargs)
        except requests.RequestException as exc:
            raise DistrictUnreachable(
                f"Không kết nối được máy chủ huyện {self.url} ({type(exc).__name__}).",
                "Kiểm tra mạng; nhật ký vẫn giữ ở máy này và sẽ gửi lại ở lần đồng bộ sau.",
            ) from None
        if answer.status_code in (401, 403):
            raise DistrictUnreachable(
                f"Máy chủ huyện {self.url} từ chối mã truy cập của đài ({_error(answer)}).",
                "Xin huyện cấp lại mã rồi liên kết lại: broadcaster station link URL --token MÃ.",
            )
        if answer.status_code != 200:
            raise DistrictUnreachable(
                f"Máy chủ huyện {self.url} trả lời lỗi {answer.status_code} ({_error(answer)}).",
                "Nhật ký vẫn giữ ở máy này; báo cho huyện nếu lỗi còn lặp lại.",
            )
        return answer


def _head(data: Any) -> DistrictHead:
    try:
        return DistrictHead(
            int(data["rows"]),
            str(data["head_hash"]),
            int(data.get("accepted", 0)),
            int(data.get("repeated", 0)),
            bool(data.get("broken", False)),
            str(data.get("reason", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise DistrictUnreachable(
            "Máy chủ huyện trả lời không đúng định dạng.",
            "Kiểm tra địa chỉ máy chủ huyện (có đúng là broadcaster web của huyện không).",
        ) from None


def _instant(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


def _incoming(item: dict[str, Any]) -> Incoming:
    c = item["campaign"]
    sent = _instant(item["sent_at"])
    if sent is None:
        raise ValueError("sent_at")
    return Incoming(
        id=int(item["id"]),
        title=str(item["title"]),
        text=str(item["text"]),
        spoken_text=str(item["spoken_text"]),
        level=str(item["level"]),
        valid_until=_instant(item.get("valid_until")),
        audio_sha256=str(item["audio_sha256"]),
        audio_ext=str(item["audio_ext"]),
        duration_s=float(item["duration_s"]),
        approved_by=str(item["approved_by"]),
        sent_at=sent,
        campaign=CampaignNote(
            str(c["code"]),
            str(c.get("title", "")),
            str(c.get("plan_ref", "")),
            str(c.get("period_start", "")),
            str(c.get("period_end", "")),
            dict(c.get("target") or {}),
        ),
    )


def _error(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("error", ""))[:200] or answer.reason
    except ValueError:
        return answer.reason
