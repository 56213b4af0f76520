"""The one ffmpeg/ffprobe subprocess wrapper, plus pure parsers of their output text."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broadcaster.errors import AudioError, ToolMissingError

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
_INSTALL_HINT = "Cài đặt bằng lệnh: sudo apt-get install ffmpeg"
_DECODE_HINT = "Dùng tệp MP3, WAV, M4A, OGG hoặc FLAC còn nguyên vẹn, hoặc thu âm/tạo lại tệp."


@dataclass(frozen=True)
class ProbeResult:
    """What ffprobe says about the first audio stream of a file."""

    duration_s: float
    sample_rate: int
    channels: int
    codec: str


@dataclass(frozen=True)
class Ebur128Summary:
    """The closing summary printed by ffmpeg's ebur128 filter (true peak printed in dBFS means dBTP)."""

    integrated_lufs: float
    loudness_range_lu: float
    sample_peak_dbfs: float | None
    true_peak_dbtp: float | None


@dataclass(frozen=True)
class Silence:
    """One stretch reported by silencedetect; `end_s` is None when it ran to the end unreported."""

    start_s: float
    end_s: float | None


@dataclass(frozen=True)
class AudioSource:
    """ffmpeg inputs plus a filter graph fragment whose output pad is labelled [src]."""

    inputs: tuple[Path, ...]
    graph: str

    def input_args(self) -> list[str]:
        """The `-i` arguments for every input."""
        # Absolute, because renders run inside the output folder.
        return [arg for path in self.inputs for arg in ("-i", os.path.abspath(path))]


def single_file(path: Path) -> AudioSource:
    """The first audio stream of one file as a source."""
    return AudioSource(inputs=(path,), graph="[0:a:0]anull[src]")


def require_tools() -> None:
    """Raise ToolMissingError unless both ffmpeg and ffprobe are on PATH."""
    for tool in (FFMPEG, FFPROBE):
        if shutil.which(tool) is None:
            raise ToolMissingError(f"Không tìm thấy chương trình {tool} trên máy này.", _INSTALL_HINT)


def _run(argv: list[str], timeout: float | None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise ToolMissingError(f"Không tìm thấy chương trình {argv[0]} trên máy này.", _INSTALL_HINT) from exc
    except subprocess.TimeoutExpired as exc:
        raise AudioError(
            f"{argv[0]} chạy quá {timeout:g} giây và đã bị dừng.",
            "Kiểm tra tệp âm thanh có quá dài hoặc bị hỏng không.",
        ) from exc


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # ffmpeg ends a failure with a generic line ("Conversion failed!"); the cause sits just above it.
    for line in reversed(lines):
        if not line.startswith(("Conversion failed", "Exiting normally")):
            return line[-300:]
    return "không rõ lỗi"


def run_ffmpeg(args: Sequence[str], *, timeout: float | None = None) -> str:
    """Run ffmpeg with `args` (after the common flags) and return its stderr; AudioError on failure."""
    argv = [FFMPEG, "-nostdin", "-hide_banner", "-nostats", *args]
    done = _run(argv, timeout)
    stderr = done.stderr.decode("utf-8", errors="replace")
    if done.returncode != 0:
        raise AudioError(
            f"ffmpeg không xử lý được âm thanh: {_last_error_line(stderr)}",
            _DECODE_HINT,
        )
    return stderr


def _start(
    argv: list[str], stdin: Any, stdout: Any, stderr: Any, cwd: Path | None
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd)
    except FileNotFoundError as exc:
        raise ToolMissingError(f"Không tìm thấy chương trình {argv[0]} trên máy này.", _INSTALL_HINT) from exc


def run_ffmpeg_concurrently(
    jobs: Sequence[Sequence[str]], *, piped: bool, cwd: Path | None = None, timeout: float | None = None
) -> list[str]:
    """Run several ffmpegs at once and return their stderrs; AudioError if any fails.

    With `piped`, each job's stdout feeds the next job's stdin (a pipeline: decode/filter → encode →
    meter), otherwise they are independent. Either way the work spreads over the machine's cores.
    """
    common = [FFMPEG, "-hide_banner", "-nostats"]
    with contextlib.ExitStack() as stack:
        errs = [stack.enter_context(tempfile.TemporaryFile()) for _ in jobs]
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for pos, (args, err) in enumerate(zip(jobs, errs, strict=True)):
                feed = procs[-1].stdout if piped and procs else subprocess.DEVNULL
                out = subprocess.PIPE if piped and pos < len(jobs) - 1 else subprocess.DEVNULL
                procs.append(_start([*common, *args], feed, out, err, cwd))
                if piped and pos > 0 and procs[-2].stdout is not None:
                    procs[-2].stdout.close()  # only the next stage holds the pipe: a dead reader breaks it
            deadline = None if timeout is None else time.monotonic() + timeout
            codes = [
                proc.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
                for proc in procs
            ]
        except subprocess.TimeoutExpired as exc:
            raise AudioError(
                f"{FFMPEG} chạy quá {timeout:g} giây và đã bị dừng.",
                "Kiểm tra tệp âm thanh có quá dài hoặc bị hỏng không.",
            ) from exc
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        texts = []
        for err in errs:
            err.seek(0)
            texts.append(err.read().decode("utf-8", errors="replace"))
    failed = [text for code, text in zip(codes, texts, strict=True) if code != 0]
    if failed:
        # A stage that only lost its reader says "Broken pipe"; the cause is in another stage.
        cause = next((text for text in failed if "Broken pipe" not in text), failed[0])
        raise AudioError(f"ffmpeg không xử lý được âm thanh: {_last_error_line(cause)}", _DECODE_HINT)
    return texts


def probe(path: Path, *, timeout: float | None = 60.0) -> ProbeResult:
    """Describe the first audio stream of `path`; AudioError when it is missing, corrupt or not audio."""
    if not path.is_file():
        raise AudioError(f"Không tìm thấy tệp âm thanh: {path}", "Kiểm tra lại đường dẫn tệp.")
    argv = [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
    done = _run(argv, timeout)
    if done.returncode != 0:
        reason = _last_error_line(done.stderr.decode("utf-8", errors="replace"))
        raise AudioError(f"Tệp {path.name} bị hỏng hoặc không phải tệp âm thanh ({reason}).", _DECODE_HINT)
    try:
        return parse_probe_json(done.stdout.decode("utf-8", errors="replace"))
    except AudioError as exc:
        raise AudioError(f"Tệp {path.name}: {exc.message}", exc.hint) from exc


def _float_or_none(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_probe_json(text: str) -> ProbeResult:
    """Parse `ffprobe -print_format json -show_format -show_streams` output (pure)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AudioError("ffprobe trả về dữ liệu không đọc được.", _DECODE_HINT) from exc
    streams = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise AudioError("không có luồng âm thanh nào (có thể không phải tệp âm thanh).", _DECODE_HINT)
    stream = streams[0]
    sample_rate = int(_float_or_none(stream.get("sample_rate")) or 0)
    channels = int(stream.get("channels") or 0)
    if sample_rate <= 0 or channels <= 0:
        raise AudioError("luồng âm thanh không có tần số lấy mẫu hoặc số kênh hợp lệ.", _DECODE_HINT)
    # Container duration is the better figure for MP3 (it accounts for encoder delay); stream as fallback.
    duration = _float_or_none(data.get("format", {}).get("duration"))
    if duration is None:
        duration = _float_or_none(stream.get("duration"))
    return ProbeResult(
        duration_s=duration if duration is not None else math.nan,
        sample_rate=sample_rate,
        channels=channels,
        codec=str(stream.get("codec_name") or "unknown"),
    )


_SUMMARY_RE = re.compile(r"^\[Parsed_ebur128_(\d+) @ [^\]]+\] Summary:\s*$", re.MULTILINE)
_NUMBER = r"(-?inf|[-+]?\d+(?:\.\d+)?)"


def _db(text: str) -> float:
    return float(text.replace("inf", "Infinity"))


def _field(block: str, section: str, key: str) -> float | None:
    match = re.search(rf"{section}:\s*\n(?:\s+\S.*\n)*?\s+{key}:\s+{_NUMBER}", block + "\n")
    return _db(match.group(1)) if match else None


def parse_ebur128_all(stderr: str) -> list[Ebur128Summary]:
    """Every ebur128 instance's final summary, in filter order (pure).

    ffmpeg may configure a graph twice and prints an empty summary for the discarded first
    instance, so only the last summary of each instance index counts.
    """
    heads = list(_SUMMARY_RE.finditer(stderr))
    by_index: dict[int, Ebur128Summary] = {}
    for pos, head in enumerate(heads):
        end = heads[pos + 1].start() if pos + 1 < len(heads) else len(stderr)
        block = stderr[head.end() : end]
        integrated = _field(block, "Integrated loudness", "I")
        lra = _field(block, "Loudness range", "LRA")
        if integrated is None or lra is None:
            continue
        by_index[int(head.group(1))] = Ebur128Summary(
            integrated_lufs=integrated,
            loudness_range_lu=lra,
            sample_peak_dbfs=_field(block, "Sample peak", "Peak"),
            true_peak_dbtp=_field(block, "True peak", "Peak"),
        )
    return [by_index[key] for key in sorted(by_index)]


def parse_ebur128(stderr: str) -> Ebur128Summary:
    """The summary of the (last) ebur128 filter in ffmpeg's stderr (pure); AudioError if absent."""
    summaries = parse_ebur128_all(stderr)
    if not summaries:
        raise AudioError(
            "Không đọc được kết quả đo độ ồn của ffmpeg.", "Kiểm tra phiên bản ffmpeg (cần ≥ 4.4)."
        )
    return summaries[-1]


_SILENCE_RE = re.compile(r"silence_(start|end): (-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)")


def parse_silences(stderr: str) -> list[Silence]:
    """Silence stretches from silencedetect lines, in order (pure)."""
    result: list[Silence] = []
    start: float | None = None
    for kind, value in _SILENCE_RE.findall(stderr):
        if kind == "start":
            start = max(0.0, float(value))
        elif start is not None:
            result.append(Silence(start, float(value)))
            start = None
    if start is not None:
        result.append(Silence(start, None))
    return result


_TIME_RE = re.compile(r"time=(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


def parse_decoded_duration(stderr: str) -> float | None:
    """Seconds of audio ffmpeg processed, from its final `time=` report (pure); None if absent."""
    matches = _TIME_RE.findall(stderr)
    if not matches:
        return None
    hours, minutes, seconds = matches[-1]
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
