"""The district server over HTTP(S), as `forwarding.DistrictPort`: the head it holds, and pushes of rows.

Every failure is one Vietnamese line (`DistrictUnreachable`) naming the server, never the token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from broadcaster import airlog
from broadcaster.services.forwarding import DistrictHead, DistrictUnreachable

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
        return self._call("GET", "/api/district/head", params={"station": station_code})

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
        return self._call("POST", "/api/district/asrun", json=body)

    def _call(self, method: str, path: str, **kwargs: Any) -> DistrictHead:
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
        try:
            data = answer.json()
            return DistrictHead(
                int(data["rows"]),
                str(data["head_hash"]),
                int(data.get("accepted", 0)),
                int(data.get("repeated", 0)),
                bool(data.get("broken", False)),
                str(data.get("reason", "")),
            )
        except (ValueError, KeyError, TypeError):
            raise DistrictUnreachable(
                f"Máy chủ huyện {self.url} trả lời không đúng định dạng.",
                "Kiểm tra địa chỉ máy chủ huyện (có đúng là broadcaster web của huyện không).",
            ) from None


def _error(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("error", ""))[:200] or answer.reason
    except ValueError:
        return answer.reason
