"""Benchmark: cold TTS renders vs warm cache hits for 50 Vietnamese bulletins, and normaliser throughput.

Run: .venv/bin/python scripts/bench/render.py
Peers measured in the same run: bare `espeak-ng -w` subprocesses (for the Renderer's overhead), the warm
cache (for the cold/warm ratio) and a plain NFC + lower + regex pass (for the normaliser).
gTTS is served by an in-process interceptor (real MP3 bytes), so its cold figure excludes the network.
"""

from __future__ import annotations

import base64
import functools
import importlib
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import responses

from broadcaster.speech.engines import Engine, EspeakEngine, GttsEngine
from broadcaster.speech.render import RenderCache, Renderer

SUBJECTS = [
    "Ủy ban nhân dân phường Phú Thứ",
    "Trạm y tế phường",
    "Ban chỉ huy quân sự phường",
    "Hội Liên hiệp Phụ nữ phường",
    "Công an phường",
    "Ban quản lý chợ Phú Thứ",
]
EVENTS = [
    "tổ chức tiêm vắc-xin sởi, rubella miễn phí cho trẻ dưới năm tuổi",
    "phát động chiến dịch diệt lăng quăng, bọ gậy phòng chống sốt xuất huyết",
    "tạm ngừng cấp điện để bảo trì đường dây trung thế",
    "tổ chức khám sức khỏe nghĩa vụ quân sự cho thanh niên trong độ tuổi",
    "vận động bà con phân loại rác thải sinh hoạt tại nguồn",
    "nhắc nhở các hộ kinh doanh đăng ký nộp thuế khoán năm mới",
    "tuyên truyền phòng chống cháy nổ trong khu dân cư",
    "hướng dẫn cài đặt ứng dụng định danh điện tử VNeID",
]
WHEN = [
    "từ bảy giờ sáng đến mười một giờ trưa ngày thứ bảy tuần này",
    "vào chiều chủ nhật, bắt đầu lúc mười bốn giờ",
    "trong ba ngày liên tiếp từ ngày mười hai đến ngày mười bốn tháng này",
    "vào sáng thứ hai tuần sau",
]
WHERE = [
    "tại nhà văn hóa khu phố ba",
    "tại hội trường ủy ban nhân dân phường",
    "tại trạm y tế phường, số mười hai đường Trần Hưng Đạo",
    "tại sân trường tiểu học Phú Thứ",
]
ADVICE = [
    "Đề nghị bà con sắp xếp thời gian tham gia đầy đủ.",
    "Khi đi nhớ mang theo căn cước công dân.",
    "Mọi thắc mắc xin liên hệ tổ trưởng tổ dân phố.",
    "Bà con lưu ý đeo khẩu trang và giữ trật tự.",
    "Xin trân trọng thông báo.",
]


def bulletins(count: int, seed: int = 2026) -> list[str]:
    """`count` distinct, varied Vietnamese bulletins (one to three sentences of advice)."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        advice = " ".join(rng.sample(ADVICE, rng.randint(1, 3)))
        text = f"{rng.choice(SUBJECTS)} {rng.choice(EVENTS)} {rng.choice(WHEN)} {rng.choice(WHERE)}. {advice}"
        if text not in out:
            out.append(unicodedata.normalize("NFC", text))
    return out


def timed(action: Callable[[], object]) -> float:
    """Seconds one call of `action` took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def cold_and_warm(engine: Engine, texts: list[str], rounds: int) -> tuple[float, float]:
    """Median seconds for rendering all texts into a fresh cache, and again from the warm cache."""
    colds: list[float] = []
    warms: list[float] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            renderer = Renderer([engine], RenderCache(Path(tmp)), "bench", sleep=lambda _s: None)
            colds.append(timed(functools.partial(renderer.render_many, texts)))
            for _ in range(3):
                results = renderer.render_many(texts)
                assert all(r.cache_hit for r in results)
            warms.append(timed(functools.partial(renderer.render_many, texts)))
    return statistics.median(colds), statistics.median(warms)


def bare_espeak(texts: list[str], rounds: int) -> float:
    """Median seconds for plain `espeak-ng -w` subprocesses on all texts (no cache, no checks)."""
    runs: list[float] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            for i, text in enumerate(texts):
                args = ["espeak-ng", "-v", "vi", "-s", "150", "-p", "50", "-b", "1", "--stdin"]
                subprocess.run([*args, "-w", f"{tmp}/{i}.wav"], input=text.encode(), check=True)
            runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def google_mp3(folder: Path) -> bytes:
    """Real MP3 bytes (espeak-ng speech through libmp3lame) shaped like Google's answer."""
    wav, mp3 = folder / "clip.wav", folder / "clip.mp3"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), "Xin chào bà con."], check=True)
    encode = ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-ar", "24000", "-ac", "1"]
    subprocess.run([*encode, "-b:a", "32k", "-id3v2_version", "0", "-write_xing", "0", str(mp3)], check=True)
    return mp3.read_bytes()


def gtts_cold_and_warm(texts: list[str], rounds: int) -> tuple[float, float, int]:
    """Cold/warm medians for gTTS against an in-process interceptor, plus the requests it sent per round."""
    with tempfile.TemporaryDirectory() as tmp:
        mp3 = google_mp3(Path(tmp))
    payload = json.dumps([base64.b64encode(mp3).decode("ascii")])
    line = json.dumps([["wrb.fr", "jQ1olc", payload, None, None, None, "generic"]], separators=(",", ":"))
    body = f")]}}'\n\n{len(line)}\n{line}\n"
    url = re.compile(r"https://translate\.google\.[a-z.]+/_/TranslateWebserverUi/data/batchexecute")

    def answer(_request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        return 200, {}, body

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, url, callback=answer)
        cold, warm = cold_and_warm(GttsEngine(), texts, rounds)
        sent = len(mock.calls)
    return cold, warm, sent // rounds


def normaliser_figures(texts: list[str]) -> str:
    """Throughput of broadcaster.speech.normalize against a plain NFC + lower + regex pass, or why not."""
    try:
        module = importlib.import_module("broadcaster.speech.normalize")
        normalizer = make_normalizer(module)
        version = getattr(module, "NORMALIZER_VERSION", "?")
        normalizer.normalize(texts[0])
    except Exception as exc:
        return f"normaliser not available ({type(exc).__name__}: {exc})"
    chars = sum(len(t) for t in texts)

    def peer(text: str) -> str:
        return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).lower()).strip()

    ours = chars_per_second(normalizer.normalize, texts, chars)
    theirs = chars_per_second(peer, texts, chars)
    return (
        f"normaliser {version}: {ours:,.0f} chars/s; peer NFC+lower+regex: {theirs:,.0f} chars/s; "
        f"peer/normaliser = {theirs / ours:.1f}x"
    )


def make_normalizer(module: Any) -> Any:
    """Build the Normalizer with its default lexicon, whichever constructor form it has."""
    if hasattr(module, "default_lexicon"):
        try:
            return module.Normalizer(module.default_lexicon())
        except TypeError:
            pass
    return module.Normalizer()


def chars_per_second(fn: Callable[[str], str], texts: list[str], chars: int, min_s: float = 0.5) -> float:
    """Characters per second of `fn` over `texts`, repeating the pass until `min_s` seconds have gone by."""
    passes, start = 0, time.perf_counter()
    while True:
        for text in texts:
            fn(text)
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_s:
            return passes * chars / elapsed


def main() -> int:
    """Print the figures."""
    texts = bulletins(50)
    rounds = 3
    chars = sum(len(t) for t in texts)
    print(f"{len(texts)} bulletins, {chars} chars (mean {chars / len(texts):.0f}), median of {rounds} rounds")
    bare = bare_espeak(texts, rounds)
    cold, warm = cold_and_warm(EspeakEngine(), texts, rounds)
    per = bare / len(texts) * 1000
    print(f"espeak-ng bare subprocesses (peer): {bare * 1000:8.1f} ms  ({per:.1f} ms/bulletin)")
    print(f"espeak-ng cold render:               {cold * 1000:8.1f} ms  (Renderer/bare = {cold / bare:.2f}x)")
    print(f"espeak-ng warm cache:                {warm * 1000:8.1f} ms  (cold/warm = {cold / warm:.1f}x)")
    g_cold, g_warm, sent = gtts_cold_and_warm(texts, rounds)
    print(f"gTTS (interceptor) cold render:      {g_cold * 1000:8.1f} ms  ({sent} HTTP requests: chunked)")
    print(
        f"gTTS (interceptor) warm cache:       {g_warm * 1000:8.1f} ms  (cold/warm = {g_cold / g_warm:.1f}x)"
    )
    print(normaliser_figures(texts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
