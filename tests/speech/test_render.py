"""Renderer and RenderCache: fallback chain, retries with back-off, content-addressed cache, atomic files."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from broadcaster.clock import FakeClock
from broadcaster.errors import EngineError, InputError, ToolMissingError
from broadcaster.files import file_sha256
from broadcaster.speech.engines import Engine, EspeakEngine, GttsEngine
from broadcaster.speech.render import LOCK_NAME, RenderCache, Renderer, RenderError

TEXT = "Phường Phú Thứ thông báo lịch tiêm vắc-xin sởi cho trẻ dưới năm tuổi vào sáng thứ bảy."
NORMALIZER = "norm-1"
START = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)


class CountingEngine:
    """Wraps a real engine and counts synthesize calls (implements the Engine protocol)."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.calls: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def voice(self) -> str:
        return self.inner.voice

    @property
    def file_extension(self) -> str:
        return self.inner.file_extension

    def settings_key(self) -> str:
        return self.inner.settings_key()

    def synthesize(self, text: str, dst: Path) -> None:
        self.calls.append(text)
        self.inner.synthesize(text, dst)


class EmptyOutputEngine:
    """A broken engine that 'succeeds' but leaves a zero-byte file (implements the Engine protocol)."""

    name = "empty"
    voice = "vi"
    file_extension = "wav"

    def settings_key(self) -> str:
        return "none"

    def synthesize(self, text: str, dst: Path) -> None:
        dst.write_bytes(b"")


class Sleeps(list[float]):
    """Records the back-off delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def stored_files(root: Path) -> list[Path]:
    """Files in the cache apart from the lock file."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != LOCK_NAME)


@pytest.fixture
def cache(tmp_path: Path) -> RenderCache:
    return RenderCache(tmp_path / "cache", clock=FakeClock(START))


@pytest.fixture
def espeak() -> CountingEngine:
    return CountingEngine(EspeakEngine())


@pytest.fixture
def gtts() -> CountingEngine:
    return CountingEngine(GttsEngine(timeout=5.0))


# --- cache --------------------------------------------------------------------------------------


def test_cold_render_stores_audio_and_sidecar_by_content_hash(
    cache: RenderCache, espeak: CountingEngine, audio_probe: Any
) -> None:
    result = Renderer([espeak], cache, NORMALIZER).render(TEXT)

    key = RenderCache.key(TEXT, "espeak", "vi", espeak.settings_key(), NORMALIZER)
    assert result.path == cache.root / key[:2] / f"{key}.wav"
    assert (result.engine, result.voice, result.settings_key) == ("espeak", "vi", espeak.settings_key())
    assert (result.cache_hit, result.fallback, result.failures) == (False, False, ())
    assert result.sha256 == file_sha256(result.path)
    assert audio_probe(result.path)[0] == "pcm_s16le"
    sidecar = json.loads((cache.root / key[:2] / f"{key}.json").read_text(encoding="utf-8"))
    assert sidecar["engine"] == "espeak"
    assert sidecar["voice"] == "vi"
    assert sidecar["sha256"] == result.sha256
    assert sidecar["created"] == START.isoformat()
    assert sidecar["normalizer_version"] == NORMALIZER
    assert stored_files(cache.root) == sorted([result.path, result.path.with_suffix(".json")])
    assert espeak.calls == [TEXT]


def test_second_render_is_a_hit_without_engine_call(cache: RenderCache, espeak: CountingEngine) -> None:
    renderer = Renderer([espeak], cache, NORMALIZER)
    first = renderer.render(TEXT)
    second = renderer.render(TEXT)
    nfd = renderer.render(unicodedata.normalize("NFD", TEXT) + "\n")

    assert len(espeak.calls) == 1
    assert second.cache_hit and nfd.cache_hit
    assert second.path == first.path == nfd.path
    assert second.sha256 == first.sha256
    assert first.path.stem == renderer.cache_key(" " + TEXT, espeak)


def test_key_changes_with_normaliser_version_and_engine_settings(cache: RenderCache) -> None:
    slow, fast = CountingEngine(EspeakEngine(rate=120)), CountingEngine(EspeakEngine(rate=200))
    a = Renderer([slow], cache, "norm-1").render(TEXT)
    b = Renderer([slow], cache, "norm-2").render(TEXT)
    c = Renderer([fast], cache, "norm-1").render(TEXT)

    assert len({a.path, b.path, c.path}) == 3
    assert not (a.cache_hit or b.cache_hit or c.cache_hit)
    assert (len(slow.calls), len(fast.calls)) == (2, 1)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _drop_sidecar(path: Path) -> None:
    path.with_suffix(".json").unlink()


def _garble_sidecar(path: Path) -> None:
    path.with_suffix(".json").write_text("{not json", encoding="utf-8")


def _drop_audio(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize("damage", [_truncate, _zero, _flip, _drop_sidecar, _garble_sidecar, _drop_audio])
def test_corrupted_cache_entry_is_detected_and_re_rendered(
    cache: RenderCache, espeak: CountingEngine, damage: Any
) -> None:
    renderer = Renderer([espeak], cache, NORMALIZER)
    first = renderer.render(TEXT)
    damage(first.path)

    again = renderer.render(TEXT)

    assert len(espeak.calls) == 2
    assert again.cache_hit is False
    assert again.path == first.path
    assert file_sha256(again.path) == again.sha256
    sidecar = json.loads(again.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["sha256"] == again.sha256
    assert renderer.render(TEXT).cache_hit is True


def test_lookup_deletes_a_corrupt_entry(cache: RenderCache, espeak: CountingEngine) -> None:
    result = Renderer([espeak], cache, NORMALIZER).render(TEXT)
    _flip(result.path)
    key = result.path.stem

    assert cache.lookup(key, "wav") is None
    assert stored_files(cache.root) == []


# --- fallback chain and retries -----------------------------------------------------------------


@pytest.mark.parametrize(
    "outcome",
    [
        429,
        503,
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ConnectionError("[Errno 111] Connection refused"),
    ],
    ids=["429", "503", "read-timeout", "connect-timeout", "refused"],
)
def test_retryable_gtts_failure_retries_then_falls_back_to_espeak(
    fake_google: Any,
    cache: RenderCache,
    gtts: CountingEngine,
    espeak: CountingEngine,
    outcome: Any,
    audio_probe: Any,
) -> None:
    fake_google.fail_always(outcome)
    sleeps = Sleeps()
    result = Renderer([gtts, espeak], cache, NORMALIZER, retries=2, sleep=sleeps).render(TEXT)

    assert len(fake_google.calls) == 3
    assert sleeps == [0.5, 1.0]
    assert (result.engine, result.fallback, result.cache_hit) == ("espeak", True, False)
    assert [(f.engine, f.attempts, f.retryable) for f in result.failures] == [("gtts", 3, True)]
    assert audio_probe(result.path)[0] == "pcm_s16le"
    assert json.loads(result.path.with_suffix(".json").read_text(encoding="utf-8"))["engine"] == "espeak"
    assert stored_files(cache.root) == sorted([result.path, result.path.with_suffix(".json")])


def test_chain_order_is_exposed(cache: RenderCache, gtts: CountingEngine, espeak: CountingEngine) -> None:
    renderer = Renderer([gtts, espeak], cache, NORMALIZER)

    assert renderer.first_engine == "gtts"
    assert [e.name for e in renderer.engines] == ["gtts", "espeak"]


def test_non_retryable_gtts_failure_falls_back_at_once(
    fake_google: Any, cache: RenderCache, gtts: CountingEngine, espeak: CountingEngine
) -> None:
    fake_google.fail_always(403)
    sleeps = Sleeps()
    result = Renderer([gtts, espeak], cache, NORMALIZER, sleep=sleeps).render(TEXT)

    assert len(fake_google.calls) == 1
    assert sleeps == []
    assert (result.engine, result.fallback) == ("espeak", True)
    assert "HTTP 403" in result.failures[0].message


def test_transient_429_then_success_stays_on_gtts(
    fake_google: Any, cache: RenderCache, gtts: CountingEngine, espeak: CountingEngine, audio_probe: Any
) -> None:
    fake_google.fail_next(429)
    sleeps = Sleeps()
    result = Renderer([gtts, espeak], cache, NORMALIZER, sleep=sleeps).render(TEXT)

    assert sleeps == [0.5]
    assert (result.engine, result.fallback, result.failures) == ("gtts", False, ())
    assert result.path.suffix == ".mp3"
    assert result.path.read_bytes() == fake_google.mp3
    assert audio_probe(result.path)[0] == "mp3"
    assert espeak.calls == []


def test_back_off_doubles_and_is_bounded(fake_google: Any, cache: RenderCache, gtts: CountingEngine) -> None:
    fake_google.fail_always(429)
    sleeps = Sleeps()
    renderer = Renderer([gtts], cache, NORMALIZER, retries=5, backoff_s=1.0, max_backoff_s=4.0, sleep=sleeps)
    with pytest.raises(RenderError):
        renderer.render(TEXT)

    assert sleeps == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(fake_google.calls) == 6


def test_gtts_render_is_cached_and_hit_makes_no_http_call(
    fake_google: Any, cache: RenderCache, gtts: CountingEngine, espeak: CountingEngine
) -> None:
    renderer = Renderer([gtts, espeak], cache, NORMALIZER)
    first = renderer.render(TEXT)
    fake_google.fail_always(requests.exceptions.ConnectionError("offline"))
    second = renderer.render(TEXT)

    assert len(fake_google.calls) == 1
    assert (second.engine, second.cache_hit, second.fallback) == ("gtts", True, False)
    assert second.path == first.path


def test_upgrade_replaces_a_fallback_render_when_gtts_is_back(
    fake_google: Any, cache: RenderCache, gtts: CountingEngine, espeak: CountingEngine
) -> None:
    sleeps = Sleeps()
    renderer = Renderer([gtts, espeak], cache, NORMALIZER, retries=1, sleep=sleeps)
    fake_google.fail_always(requests.exceptions.ConnectionError("offline"))
    offline = renderer.render(TEXT)
    fake_google.fail_always(None)
    kept = renderer.render(TEXT)

    assert (offline.engine, offline.fallback) == ("espeak", True)
    assert (kept.engine, kept.fallback, kept.cache_hit) == ("espeak", True, True)
    assert len(fake_google.calls) == 2  # the plain hit did not call Google

    upgraded = renderer.render(TEXT, upgrade=True)
    assert (upgraded.engine, upgraded.fallback, upgraded.cache_hit) == ("gtts", False, False)
    assert upgraded.path.suffix == ".mp3"
    assert renderer.render(TEXT).path == upgraded.path
    assert len(espeak.calls) == 1


def test_upgrade_keeps_the_fallback_render_while_gtts_is_still_down(
    fake_google: Any, cache: RenderCache, gtts: CountingEngine, espeak: CountingEngine
) -> None:
    renderer = Renderer([gtts, espeak], cache, NORMALIZER, retries=0, sleep=Sleeps())
    fake_google.fail_always(429)
    first = renderer.render(TEXT)
    again = renderer.render(TEXT, upgrade=True)

    assert (again.engine, again.cache_hit, again.fallback) == ("espeak", True, True)
    assert again.path == first.path
    assert [f.engine for f in again.failures] == ["gtts"]
    assert len(espeak.calls) == 1


def test_all_engines_failing_names_each_and_stores_nothing(fake_google: Any, cache: RenderCache) -> None:
    fake_google.fail_always(requests.exceptions.ConnectionError("[Errno 111] Connection refused"))
    engines: list[Engine] = [GttsEngine(), EspeakEngine(binary="espeak-ng-missing")]
    with pytest.raises(RenderError) as info:
        Renderer(engines, cache, NORMALIZER, sleep=Sleeps()).render(TEXT)

    message = info.value.message
    assert "gtts (3 lần thử)" in message and "espeak (1 lần thử)" in message
    assert "espeak-ng-missing" in message
    assert info.value.retryable is True
    assert [f.engine for f in info.value.failures] == ["gtts", "espeak"]
    assert stored_files(cache.root) == []


def test_only_missing_tools_raise_tool_missing(cache: RenderCache) -> None:
    with pytest.raises(ToolMissingError) as info:
        Renderer([EspeakEngine(binary="espeak-ng-missing")], cache, NORMALIZER).render(TEXT)

    assert "apt-get install espeak-ng" in info.value.message
    assert stored_files(cache.root) == []


def test_engine_leaving_an_empty_file_is_not_cached(cache: RenderCache, espeak: CountingEngine) -> None:
    result = Renderer([EmptyOutputEngine(), espeak], cache, NORMALIZER).render(TEXT)

    assert (result.engine, result.fallback) == ("espeak", True)
    assert "không tạo ra âm thanh" in result.failures[0].message
    assert all(p.stat().st_size > 0 for p in stored_files(cache.root))
    assert len(stored_files(cache.root)) == 2


def test_failed_gtts_leaves_no_zero_byte_file_anywhere(
    fake_google: Any, tmp_path: Path, cache: RenderCache, espeak: CountingEngine
) -> None:
    fake_google.fail_next(None, 429, 429, 429)  # the first chunk arrives, then throttling
    long_text = " ".join([TEXT] * 4)
    Renderer([GttsEngine(), espeak], cache, NORMALIZER, sleep=Sleeps()).render(long_text)

    assert len(fake_google.served) == 1
    zero = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size == 0 and p.name != LOCK_NAME]
    assert zero == []
    assert [p.suffix for p in stored_files(cache.root)] == [".json", ".wav"]


# --- batch and input ----------------------------------------------------------------------------


def test_render_many_reports_progress_and_reuses_the_cache(
    cache: RenderCache, espeak: CountingEngine
) -> None:
    seen: list[tuple[int, int, bool]] = []
    texts = [TEXT, "Bà con chú ý phòng chống sốt xuất huyết.", TEXT]
    results = Renderer([espeak], cache, NORMALIZER).render_many(
        texts, progress=lambda done, total, r: seen.append((done, total, r.cache_hit))
    )

    assert seen == [(1, 3, False), (2, 3, False), (3, 3, True)]
    assert results[0].path == results[2].path != results[1].path
    assert len(espeak.calls) == 2


def test_bad_input_is_refused(cache: RenderCache, espeak: CountingEngine) -> None:
    with pytest.raises(InputError):
        Renderer([espeak], cache, NORMALIZER).render(" \n ")
    with pytest.raises(InputError):
        Renderer([], cache, NORMALIZER)
    with pytest.raises(InputError):
        Renderer([espeak], cache, NORMALIZER, retries=-1)
    assert espeak.calls == []
    assert issubclass(RenderError, EngineError)
