"""espeak-ng behind the `Engine` protocol: offline, fast, robotic; the fallback voice. Writes WAV."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cached_property
from pathlib import Path

from broadcaster.errors import ConfigError, EngineError, ToolMissingError
from broadcaster.files import replacing

_INSTALL_HINT = "Cài đặt bằng lệnh: sudo apt-get install espeak-ng"


def parse_version(banner: str) -> str:
    """The version in `espeak-ng --version` output ("eSpeak NG text-to-speech: 1.51  Data at: …")."""
    found = re.search(r"text-to-speech:\s*(\S+)", banner)
    return found.group(1) if found else ""


class EspeakEngine:
    """espeak-ng run as a subprocess; the text goes through stdin so long text and leading dashes are safe."""

    def __init__(
        self,
        voice: str = "vi",
        rate: int = 150,
        pitch: int = 50,
        binary: str = "espeak-ng",
        timeout: float = 120.0,
    ) -> None:
        if not 80 <= rate <= 450:
            raise ConfigError(
                f"Tốc độ đọc espeak-ng phải từ 80 đến 450 từ/phút (đang là {rate}).", "Ví dụ: rate = 150."
            )
        if not 0 <= pitch <= 99:
            raise ConfigError(f"Cao độ espeak-ng phải từ 0 đến 99 (đang là {pitch}).", "Ví dụ: pitch = 50.")
        if not voice or voice.startswith("-"):
            raise ConfigError(f"Giọng espeak-ng '{voice}' không hợp lệ.", "Ví dụ: voice = 'vi'.")
        self._voice = voice
        self._rate = rate
        self._pitch = pitch
        self._binary = binary
        self._timeout = timeout

    @property
    def name(self) -> str:
        """Registry name."""
        return "espeak"

    @property
    def voice(self) -> str:
        """The espeak-ng voice name, e.g. "vi"."""
        return self._voice

    @property
    def file_extension(self) -> str:
        """espeak-ng writes WAV."""
        return "wav"

    def settings_key(self) -> str:
        """Voice, rate, pitch and the program's version: what changes the audio (an upgrade re-renders)."""
        return f"voice={self._voice};rate={self._rate};pitch={self._pitch};version={self.version}"

    @cached_property
    def version(self) -> str:
        """The installed espeak-ng's version ("1.51"), or "" when it cannot be run."""
        path = shutil.which(self._binary)
        if path is None:
            return ""
        try:
            proc = subprocess.run([path, "--version"], capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return parse_version(proc.stdout.decode("utf-8", "replace"))

    def check(self) -> str:
        """Return the full path of the binary or raise ToolMissingError (for start-up checks)."""
        path = shutil.which(self._binary)
        if path is None:
            raise ToolMissingError(f"Không tìm thấy chương trình '{self._binary}'.", _INSTALL_HINT)
        return path

    def synthesize(self, text: str, dst: Path) -> None:
        """Speak `text` into the WAV file `dst`."""
        if not text.strip():
            raise EngineError("Không có nội dung để đọc (văn bản rỗng).", "Nhập nội dung bản tin.")
        binary = self.check()
        with replacing(dst) as tmp:
            args = [binary, "-v", self._voice, "-s", str(self._rate), "-p", str(self._pitch)]
            args += ["-b", "1", "--stdin", "-w", str(tmp)]
            try:
                proc = subprocess.run(
                    args, input=text.encode("utf-8"), capture_output=True, timeout=self._timeout, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise EngineError(
                    f"espeak-ng chạy quá {self._timeout:g} giây mà chưa xong.",
                    "Chia bản tin thành các đoạn ngắn hơn hoặc kiểm tra máy có đang quá tải.",
                    retryable=True,
                ) from exc
            except OSError as exc:
                raise ToolMissingError(
                    f"Không chạy được '{self._binary}': {exc.strerror or exc}.", _INSTALL_HINT
                ) from exc
            if proc.returncode != 0:
                detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                last = detail[-1] if detail else f"mã lỗi {proc.returncode}"
                raise EngineError(
                    f"espeak-ng lỗi khi đọc với giọng '{self._voice}': {last}",
                    "Kiểm tra tên giọng (liệt kê bằng: espeak-ng --voices=vi).",
                )
            with tmp.open("rb") as fh:
                header = fh.read(12)
            # 44 bytes is a header with no samples: nothing would be heard.
            if tmp.stat().st_size <= 44 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
                raise EngineError(
                    "espeak-ng không tạo ra âm thanh (tệp WAV rỗng hoặc hỏng).",
                    "Kiểm tra nội dung bản tin; nếu vẫn lỗi, cài lại: sudo apt-get install espeak-ng",
                )
