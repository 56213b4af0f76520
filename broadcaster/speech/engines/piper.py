"""Piper behind the `Engine` protocol: an offline neural voice from a model file the station provides.

Used only when the station names a model (`speech.piper_model`) and the `piper` program is installed;
nothing is downloaded. The text goes through stdin; Piper writes WAV.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cached_property
from pathlib import Path

from broadcaster.errors import ConfigError, EngineError, ToolMissingError
from broadcaster.files import replacing

_INSTALL_HINT = "Cài chương trình piper (https://github.com/rhasspy/piper) hoặc chọn giọng khác."


class PiperEngine:
    """The `piper` program with one voice model (`.onnx`, its `.onnx.json` beside it)."""

    def __init__(self, model: Path, binary: str = "piper", timeout: float = 120.0) -> None:
        if not str(model).endswith(".onnx"):
            raise ConfigError(
                f"Tệp giọng Piper '{model}' phải có đuôi .onnx.",
                "Ví dụ: piper_model = '/duong/dan/giong.onnx'.",
            )
        self._model = model
        self._binary = binary
        self._timeout = timeout

    @property
    def name(self) -> str:
        """Registry name."""
        return "piper"

    @property
    def voice(self) -> str:
        """The model's name, e.g. "vi_VN-vais1000-medium"."""
        return self._model.name.removesuffix(".onnx")

    @property
    def file_extension(self) -> str:
        """Piper writes WAV."""
        return "wav"

    def settings_key(self) -> str:
        """The model (name and size: a replaced model is another voice) and the program's version."""
        try:
            size = self._model.stat().st_size
        except OSError:
            size = 0
        return f"model={self.voice};size={size};version={self.version}"

    @cached_property
    def version(self) -> str:
        """What `piper --version` prints, or "" when it cannot be run."""
        path = shutil.which(self._binary)
        if path is None:
            return ""
        try:
            proc = subprocess.run([path, "--version"], capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return proc.stdout.decode("utf-8", "replace").strip().splitlines()[0] if proc.stdout.strip() else ""

    def synthesize(self, text: str, dst: Path) -> None:
        """Speak `text` into the WAV file `dst`."""
        if not text.strip():
            raise EngineError("Không có nội dung để đọc (văn bản rỗng).", "Nhập nội dung bản tin.")
        binary = shutil.which(self._binary)
        if binary is None:
            raise ToolMissingError(f"Không tìm thấy chương trình '{self._binary}'.", _INSTALL_HINT)
        if not self._model.is_file():
            raise ToolMissingError(f"Không tìm thấy tệp giọng Piper {self._model}.", _INSTALL_HINT)
        with replacing(dst) as tmp:
            args = [binary, "--model", str(self._model), "--output_file", str(tmp)]
            try:
                proc = subprocess.run(
                    args, input=text.encode("utf-8"), capture_output=True, timeout=self._timeout, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise EngineError(
                    f"Piper chạy quá {self._timeout:g} giây mà chưa xong.",
                    "Chia bản tin thành các đoạn ngắn hơn.",
                    retryable=True,
                ) from exc
            except OSError as exc:
                raise ToolMissingError(f"Không chạy được '{self._binary}': {exc}.", _INSTALL_HINT) from exc
            if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size <= 44:
                detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                raise EngineError(
                    f"Piper không tạo được âm thanh: {detail[-1] if detail else f'mã lỗi {proc.returncode}'}",
                    "Kiểm tra tệp giọng Piper (cần cả tệp .onnx.json bên cạnh).",
                )
