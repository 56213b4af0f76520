"""Render spoken text to audio: a fallback chain of engines with retries, over a content-addressed cache."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock
from filelock import Timeout as LockTimeout

from broadcaster.clock import Clock, SystemClock
from broadcaster.errors import EngineError, InputError, SpeechError, ToolMissingError
from broadcaster.files import file_sha256, write_atomic
from broadcaster.speech.engines.base import Engine, EngineFailure, RenderResult

__all__ = ["CacheEntry", "RenderCache", "RenderError", "RenderResult", "Renderer"]

# Bump when the key recipe changes so old entries are simply never found again.
_KEY_FORMAT = 1
LOCK_NAME = ".cache.lock"
_SCRATCH_DIR = ".tmp"


def _canonical(text: str) -> str:
    """The text as it is spoken and keyed: NFC, outer whitespace removed."""
    # NFC and NFD are the same words; one form keeps one cache entry and spares espeak-ng NFD input.
    return unicodedata.normalize("NFC", text).strip()


class RenderError(EngineError):
    """Every engine in the chain failed; `failures` says how each one did."""

    def __init__(self, message: str, hint: str | None, failures: Sequence[EngineFailure]) -> None:
        self.failures = tuple(failures)
        super().__init__(message, hint, retryable=any(f.retryable for f in failures))


@dataclass(frozen=True)
class CacheEntry:
    """One verified audio file in the cache and what its sidecar says about it."""

    key: str
    path: Path
    sha256: str
    engine: str
    voice: str
    settings_key: str
    created: str


class RenderCache:
    """Audio files at `<root>/<key[:2]>/<key>.<ext>` with a JSON sidecar holding their sha256."""

    def __init__(self, root: Path, clock: Clock | None = None, lock_timeout_s: float = 120.0) -> None:
        self.root = root
        self._clock: Clock = clock if clock is not None else SystemClock()
        # One lock for the whole cache: held only for lookup/store (milliseconds), never while rendering,
        # so a reader never sees the audio of one writer next to the sidecar of another.
        self._lock = FileLock(str(root / LOCK_NAME), timeout=lock_timeout_s)

    @staticmethod
    def key(text: str, engine: str, voice: str, settings_key: str, normalizer_version: str) -> str:
        """sha256 over a JSON list of everything that decides the audio (JSON: no ambiguous joins)."""
        material = json.dumps(
            [_KEY_FORMAT, text, engine, voice, settings_key, normalizer_version], ensure_ascii=False
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def audio_path(self, key: str, ext: str) -> Path:
        """Where the audio for `key` lives."""
        return self.root / key[:2] / f"{key}.{ext}"

    def sidecar_path(self, key: str) -> Path:
        """Where the JSON sidecar for `key` lives."""
        return self.root / key[:2] / f"{key}.json"

    def scratch_path(self, ext: str) -> Path:
        """A fresh path inside the cache (same file system, so the final move is an atomic rename)."""
        scratch = self.root / _SCRATCH_DIR
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch / f"{uuid.uuid4().hex}.{ext}"

    def lookup(self, key: str, ext: str) -> CacheEntry | None:
        """The verified entry for `key`, or None; a corrupt, truncated or orphaned entry is deleted."""
        audio, sidecar = self.audio_path(key, ext), self.sidecar_path(key)
        if not audio.exists() and not sidecar.exists():
            return None
        with self._locked():
            meta = self._read_sidecar(sidecar)
            ok = (
                meta is not None
                and meta.get("key") == key
                and audio.is_file()
                and audio.stat().st_size > 0
                and file_sha256(audio) == meta.get("sha256")
            )
            if not ok or meta is None:
                audio.unlink(missing_ok=True)
                sidecar.unlink(missing_ok=True)
                return None
            return CacheEntry(
                key=key,
                path=audio,
                sha256=str(meta["sha256"]),
                engine=str(meta.get("engine", "")),
                voice=str(meta.get("voice", "")),
                settings_key=str(meta.get("settings_key", "")),
                created=str(meta.get("created", "")),
            )

    def store(self, key: str, src: Path, engine: Engine, normalizer_version: str) -> CacheEntry:
        """Move the finished file `src` into the cache under `key` and write its sidecar atomically."""
        size = src.stat().st_size
        if size == 0:
            raise EngineError(
                f"Bộ đọc {engine.name} tạo ra tệp âm thanh rỗng.", "Thử lại hoặc dùng bộ đọc khác."
            )
        sha = file_sha256(src)
        audio = self.audio_path(key, engine.file_extension)
        meta: dict[str, Any] = {
            "key": key,
            "engine": engine.name,
            "voice": engine.voice,
            "settings_key": engine.settings_key(),
            "normalizer_version": normalizer_version,
            "sha256": sha,
            "size": size,
            "created": self._clock.now().isoformat(),
        }
        try:
            with self._locked():
                audio.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, audio)
                sidecar = json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
                # No fsync: after a power cut a torn sidecar or audio fails verification and is re-rendered.
                write_atomic(self.sidecar_path(key), sidecar, fsync=False)
        except OSError as exc:
            raise SpeechError(
                f"Không ghi được âm thanh vào bộ nhớ đệm {self.root}: {exc.strerror or exc}.",
                "Kiểm tra dung lượng đĩa và quyền ghi thư mục dữ liệu (BROADCASTER_HOME).",
            ) from exc
        return CacheEntry(key, audio, sha, engine.name, engine.voice, engine.settings_key(), meta["created"])

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the cache lock (creating the cache directory first); a stuck lock becomes a SpeechError."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except LockTimeout as exc:
            raise SpeechError(
                f"Bộ nhớ đệm âm thanh {self.root} đang bị một tiến trình khác khóa quá lâu.",
                f"Đợi tiến trình kia xong; nếu không còn tiến trình nào, xóa tệp {self.root / LOCK_NAME}.",
            ) from exc
        try:
            yield
        finally:
            self._lock.release()

    @staticmethod
    def _read_sidecar(path: Path) -> dict[str, Any] | None:
        """The sidecar's JSON object, or None when missing or unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


class Renderer:
    """Tries each engine in order (retrying retryable errors with back-off) and caches what it makes."""

    def __init__(
        self,
        engines: Sequence[Engine],
        cache: RenderCache,
        normalizer_version: str,
        retries: int = 2,
        backoff_s: float = 0.5,
        max_backoff_s: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
        voices: Callable[[str], Engine | None] | None = None,
        try_head: bool = False,
    ) -> None:
        if not engines:
            raise InputError(
                "Chưa cấu hình bộ đọc (TTS) nào.", "Khai báo ít nhất một bộ đọc, ví dụ gtts, espeak."
            )
        if retries < 0 or backoff_s < 0 or max_backoff_s < 0:
            raise InputError(
                "Số lần thử lại và thời gian chờ không được âm.", "Ví dụ: retries = 2, backoff = 0.5."
            )
        self._engines = tuple(engines)
        self._cache = cache
        self._normalizer_version = normalizer_version
        self._retries = retries
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._voices = voices
        self._by_voice: dict[str, Renderer] = {}
        # A chosen voice is tried before a cached render by a fallback engine is taken for it.
        self._try_head = try_head

    @property
    def first_engine(self) -> str:
        """Name of the preferred engine (the head of the chain); any other engine is the fallback."""
        return self._engines[0].name

    @property
    def engines(self) -> tuple[Engine, ...]:
        """The chain, in the order it is tried."""
        return self._engines

    def for_voice(self, voice: str) -> Renderer:
        """The chain for a chosen voice ("espeak:vi-vn-x-south"): that voice first, then this chain's
        other engines as fallbacks. "" (or a voice this PC no longer has) is this chain itself."""
        if not voice or self._voices is None:
            return self
        known = self._by_voice.get(voice)
        if known is not None:
            return known
        engine = self._voices(voice)
        if engine is None:
            return self
        rest = [e for e in self._engines if e.name != engine.name]
        chosen = Renderer(
            [engine, *rest],
            self._cache,
            self._normalizer_version,
            retries=self._retries,
            backoff_s=self._backoff_s,
            max_backoff_s=self._max_backoff_s,
            sleep=self._sleep,
            # Another engine's render of the same words (made as the head of another chain) is no
            # render of this voice: try this voice first. The station's own head keeps the usual rule.
            try_head=engine.name != self._engines[0].name,
        )
        self._by_voice[voice] = chosen
        return chosen

    def cache_key(self, text: str, engine: Engine) -> str:
        """The cache key of `text` spoken by `engine` with the current normaliser version."""
        spoken = _canonical(text)
        return RenderCache.key(
            spoken, engine.name, engine.voice, engine.settings_key(), self._normalizer_version
        )

    def render(self, text: str, *, upgrade: bool = False) -> RenderResult:
        """Audio for already-spoken `text`: a cache hit, else the first engine of the chain that succeeds.

        A cached render by a fallback engine is returned as is unless `upgrade` is set; then the engines
        ahead of it are tried once more and the fallback render is kept only if they still fail.
        """
        spoken = _canonical(text)
        if not spoken:
            raise InputError("Không có nội dung để đọc (văn bản rỗng).", "Nhập nội dung bản tin.")
        keys = [self.cache_key(spoken, engine) for engine in self._engines]
        hit_index, hit = self._first_hit(keys)
        if hit is not None and (hit_index == 0 or not (upgrade or self._try_head)):
            return self._result(hit, hit_index, cache_hit=True, failures=())
        candidates = self._engines[:hit_index] if hit is not None else self._engines
        failures: list[EngineFailure] = []
        for index, engine in enumerate(candidates):
            entry, failure = self._try_engine(engine, spoken, keys[index])
            if entry is not None:
                return self._result(entry, index, cache_hit=False, failures=tuple(failures))
            assert failure is not None
            failures.append(failure)
        if hit is not None:
            return self._result(hit, hit_index, cache_hit=True, failures=tuple(failures))
        raise self._all_failed(failures)

    def render_many(
        self,
        texts: Iterable[str],
        *,
        upgrade: bool = False,
        progress: Callable[[int, int, RenderResult], None] | None = None,
    ) -> list[RenderResult]:
        """Render each text in order, calling `progress(done, total, result)` after each one."""
        items = list(texts)
        results: list[RenderResult] = []
        for done, text in enumerate(items, start=1):
            result = self.render(text, upgrade=upgrade)
            results.append(result)
            if progress is not None:
                progress(done, len(items), result)
        return results

    def _first_hit(self, keys: Sequence[str]) -> tuple[int, CacheEntry | None]:
        """Index and entry of the earliest engine in the chain with a verified cached render."""
        for index, (engine, key) in enumerate(zip(self._engines, keys, strict=True)):
            entry = self._cache.lookup(key, engine.file_extension)
            if entry is not None:
                return index, entry
        return len(self._engines), None

    def _try_engine(
        self, engine: Engine, text: str, key: str
    ) -> tuple[CacheEntry | None, EngineFailure | None]:
        """Synthesize with one engine, retrying retryable errors; store the result in the cache."""
        attempts = 0
        while True:
            attempts += 1
            scratch = self._cache.scratch_path(engine.file_extension)
            try:
                engine.synthesize(text, scratch)
                if not scratch.is_file() or scratch.stat().st_size == 0:
                    raise EngineError(f"Bộ đọc {engine.name} không tạo ra âm thanh.", "Thử bộ đọc khác.")
                return self._cache.store(key, scratch, engine, self._normalizer_version), None
            except ToolMissingError as exc:
                # A missing program will not appear by waiting: fall through at once.
                return None, EngineFailure(engine.name, exc.one_line(), False, attempts, tool_missing=True)
            except EngineError as exc:
                error = exc
            finally:
                scratch.unlink(missing_ok=True)
            if not error.retryable or attempts > self._retries:
                return None, EngineFailure(engine.name, error.one_line(), error.retryable, attempts)
            self._sleep(min(self._max_backoff_s, self._backoff_s * 2 ** (attempts - 1)))

    def _result(
        self, entry: CacheEntry, index: int, *, cache_hit: bool, failures: tuple[EngineFailure, ...]
    ) -> RenderResult:
        """A RenderResult for an entry made by the engine at `index` in the chain."""
        engine = self._engines[index]
        return RenderResult(
            path=entry.path,
            sha256=entry.sha256,
            engine=engine.name,
            voice=engine.voice,
            settings_key=engine.settings_key(),
            cache_hit=cache_hit,
            fallback=index > 0,
            failures=failures,
        )

    def _all_failed(self, failures: Sequence[EngineFailure]) -> EngineError | ToolMissingError:
        """One error naming how every engine failed."""
        parts = "; ".join(f"{f.engine} ({f.attempts} lần thử): {f.message}" for f in failures)
        message = f"Không tạo được âm thanh bằng bộ đọc nào. {parts}"
        if failures and len(failures) == len(self._engines) and all(f.tool_missing for f in failures):
            return ToolMissingError(message, "Cài đặt các chương trình đọc còn thiếu rồi thử lại.")
        hint = "Kiểm tra kết nối Internet và cài đặt espeak-ng, rồi thử lại (bản tin chưa được tạo âm thanh)."
        return RenderError(message, hint, failures)
