"""gTTS (Google Translate's TTS endpoint) behind the `Engine` protocol: MP3, errors classified for retry."""

from __future__ import annotations

import binascii
from pathlib import Path

import requests
from gtts import gTTS, gTTSError
from gtts.lang import tts_langs

from broadcaster.errors import ConfigError, EngineError
from broadcaster.files import replacing

# Google answers overload and throttling with these; anything else 4xx will not heal by waiting.
_RETRYABLE_STATUS = frozenset({408, 429})
_NETWORK_HINT = "Kiểm tra kết nối Internet; hệ thống sẽ thử lại hoặc dùng giọng dự phòng (espeak-ng)."


def _looks_like_mp3(head: bytes) -> bool:
    """True when the bytes start with an ID3 tag or an MPEG audio frame sync."""
    return head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0)


class GttsEngine:
    """Google TTS through the gTTS library; needs the network, speaks natural Vietnamese."""

    def __init__(self, lang: str = "vi", tld: str = "com", slow: bool = False, timeout: float = 10.0) -> None:
        if lang not in tts_langs():
            raise ConfigError(
                f"gTTS không hỗ trợ ngôn ngữ '{lang}'.",
                "Dùng mã ngôn ngữ như 'vi' (tiếng Việt).",
            )
        if not tld or "/" in tld or tld.startswith("."):
            raise ConfigError(f"Tên miền gTTS '{tld}' không hợp lệ.", "Dùng 'com' hoặc 'com.vn'.")
        if timeout <= 0:
            raise ConfigError(
                f"Thời gian chờ gTTS phải lớn hơn 0 giây (đang là {timeout}).", "Ví dụ: timeout = 10."
            )
        self._lang = lang
        self._tld = tld
        self._slow = slow
        self._timeout = timeout

    @property
    def name(self) -> str:
        """Registry name."""
        return "gtts"

    @property
    def voice(self) -> str:
        """gTTS has one voice per language: the language code."""
        return self._lang

    @property
    def file_extension(self) -> str:
        """gTTS returns MP3."""
        return "mp3"

    def settings_key(self) -> str:
        """Language, Google host and speed: what changes the audio Google returns."""
        return f"lang={self._lang};tld={self._tld};slow={int(self._slow)}"

    def synthesize(self, text: str, dst: Path) -> None:
        """Fetch the MP3 for `text` (gTTS splits it into ≤100-character requests) and write it to `dst`."""
        if not text.strip():
            raise EngineError("Không có nội dung để đọc (văn bản rỗng).", "Nhập nội dung bản tin.")
        # lang_check=False: the language was validated offline in __init__.
        tts = gTTS(
            text, tld=self._tld, lang=self._lang, slow=self._slow, lang_check=False, timeout=self._timeout
        )
        with replacing(dst) as tmp:
            try:
                tts.save(str(tmp))
            except gTTSError as exc:
                raise self._classify_gtts_error(exc) from exc
            except requests.RequestException as exc:
                # A connection dropped while the body streamed: gTTS does not wrap this one.
                raise self._classify_request_error(exc) from exc
            except AssertionError as exc:
                raise EngineError(
                    "gTTS không tìm thấy chữ nào để đọc trong văn bản.",
                    "Kiểm tra nội dung bản tin (có thể chỉ gồm dấu câu).",
                ) from exc
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise EngineError(
                    "Google trả về dữ liệu âm thanh không đọc được.",
                    "Có thể dịch vụ Google đã thay đổi; hãy cập nhật gTTS hoặc dùng espeak-ng.",
                ) from exc
            except OSError as exc:
                raise EngineError(
                    f"Không ghi được tệp âm thanh {dst}: {exc.strerror or exc}.",
                    "Kiểm tra dung lượng đĩa và quyền ghi thư mục dữ liệu.",
                ) from exc
            with tmp.open("rb") as fh:
                head = fh.read(4)
            if not head:
                raise EngineError("Google trả về tệp âm thanh rỗng.", _NETWORK_HINT, retryable=True)
            if not _looks_like_mp3(head):
                raise EngineError(
                    "Google trả về dữ liệu không phải MP3.",
                    "Có thể dịch vụ Google đã thay đổi; hãy cập nhật gTTS hoặc dùng espeak-ng.",
                )

    def _classify_gtts_error(self, exc: gTTSError) -> EngineError:
        """Map a gTTSError to EngineError, retryable for network trouble, 408/429 and 5xx."""
        rsp = exc.rsp
        if rsp is None:
            cause = exc.__context__
            if isinstance(cause, requests.RequestException):
                return self._classify_request_error(cause)
            return EngineError(f"gTTS lỗi: {exc.msg}.", "Xem lại cấu hình gTTS hoặc dùng espeak-ng.")
        status = int(rsp.status_code)
        if status in _RETRYABLE_STATUS:
            return EngineError(
                f"Google từ chối tạm thời (HTTP {status}: gửi quá nhiều yêu cầu).",
                "Đợi một lúc rồi thử lại; hệ thống sẽ dùng giọng dự phòng nếu cần.",
                retryable=True,
            )
        if status >= 500:
            return EngineError(f"Máy chủ Google đang lỗi (HTTP {status}).", _NETWORK_HINT, retryable=True)
        if status == 200:
            return EngineError(
                "Google không trả về âm thanh cho yêu cầu này.",
                f"Kiểm tra ngôn ngữ '{self._lang}' hoặc cập nhật gTTS.",
            )
        return EngineError(
            f"Google từ chối yêu cầu (HTTP {status}).",
            f"Kiểm tra tên miền '{self._tld}' và ngôn ngữ '{self._lang}', hoặc cập nhật gTTS.",
        )

    def _classify_request_error(self, exc: requests.RequestException) -> EngineError:
        """Timeouts and connection failures are worth a retry; other request errors are not."""
        host = f"translate.google.{self._tld}"
        if isinstance(exc, requests.Timeout):
            return EngineError(
                f"Hết thời gian chờ ({self._timeout:g} giây) khi gọi {host}.", _NETWORK_HINT, retryable=True
            )
        if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            return EngineError(f"Không kết nối được tới {host}.", _NETWORK_HINT, retryable=True)
        return EngineError(
            f"Yêu cầu tới {host} bị lỗi: {exc}.", "Xem lại cấu hình mạng (proxy) hoặc dùng espeak-ng."
        )
