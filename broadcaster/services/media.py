"""Audio for air: render a revision's spoken text or import a recording, normalise loudness, store it."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.audio.loudness import LoudnessTarget, OutputFormat, measure, normalize, normalize_source
from broadcaster.audio.tempo import tempo_source
from broadcaster.errors import AudioError, BroadcasterError, InputError
from broadcaster.files import file_sha256, replacing
from broadcaster.speech.voices import NORMAL_SPEED, voice_engine
from broadcaster.store.models import RenderRow, RevisionRow

if TYPE_CHECKING:  # the TTS chain (gTTS, requests) is only needed by whoever passes a Renderer in
    from broadcaster.speech.render import Renderer

RECORDING_ENGINE = "recording"  # the engine column of an operator recording: no TTS made it
# Spoken air audio as `render_spoken` makes it: path, sha256, engine, voice, seconds, LUFS, true peak.
Spoken = tuple[Path, str, str, str, float, float, float]


@dataclass(frozen=True)
class MediaSettings:
    """Where air audio goes and how loud it must be."""

    media_dir: Path
    target: LoudnessTarget
    fmt: OutputFormat


@dataclass(frozen=True)
class Recording:
    """An operator recording, loudness-normalised; `path` is where it lives once the import commits."""

    path: Path
    sha256: str
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    source_name: str


def is_intact(render: RenderRow) -> bool:
    """True if the render's file exists and still has the recorded sha256."""
    path = Path(render.path)
    return path.is_file() and file_sha256(path) == render.sha256


def render_kind(revision: RevisionRow) -> str:
    """'recording' for a revision made from an operator recording, else 'speech'."""
    return "recording" if revision.source_audio else "speech"


def current_render(session: Session, revision: RevisionRow, kind: str | None = None) -> RenderRow | None:
    """The newest render of this revision's approved content (speech or recording by default), if any."""
    q = (
        select(RenderRow)
        .where(RenderRow.revision_id == revision.id, RenderRow.kind == (kind or render_kind(revision)))
        .where(RenderRow.spoken_sha256 == revision.spoken_sha256)
        .order_by(RenderRow.id.desc())
        .limit(1)
    )
    return session.scalar(q)


def renders_of(session: Session, revision: RevisionRow) -> list[RenderRow]:
    """Every render stored for a revision, newest first."""
    q = select(RenderRow).where(RenderRow.revision_id == revision.id).order_by(RenderRow.id.desc())
    return list(session.scalars(q))


def preferred_engine(voice: str, first_engine: str) -> str:
    """The engine that should speak a revision: its chosen voice's, else the head of the station's chain."""
    return voice_engine(voice) or first_engine


def on_fallback(render: RenderRow, first_engine: str, voice: str = "") -> bool:
    """True when TTS audio was made by a fallback engine (not the chosen voice's, or the chain's head)."""
    return render.kind == "speech" and render.engine != preferred_engine(voice, first_engine)


def revision_on_fallback(render: RenderRow, revision: RevisionRow, first_engine: str) -> bool:
    """`on_fallback` for a revision's render, against the voice the revision chose."""
    return on_fallback(render, first_engine, revision.voice)


def needs_render(session: Session, revision: RevisionRow, first_engine: str, *, upgrade: bool) -> bool:
    """True when the revision lacks an intact render, or (upgrade) its speech is on the fallback voice."""
    existing = current_render(session, revision)
    if existing is None or not is_intact(existing):
        return True
    return upgrade and revision_on_fallback(existing, revision, first_engine)


def _air_file(settings: MediaSettings, spoken_sha: str, engine: str, voice: str, speed: float) -> Path:
    pace = "" if speed == NORMAL_SPEED else f"|speed={speed:g}"
    key = hashlib.sha256(
        f"{spoken_sha}|{engine}|{voice}|{settings.target}|{settings.fmt}{pace}".encode()
    ).hexdigest()
    return settings.media_dir / key[:2] / f"{key}{settings.fmt.extension}"


def reading_key(engine_settings: str, speed: float) -> str:
    """What a speech render's `settings_key` holds: the engine's settings, and the speed when not 1×."""
    return engine_settings if speed == NORMAL_SPEED else f"{engine_settings};speed={speed:g}"


def render_spoken(
    spoken: str,
    renderer: Renderer,
    settings: MediaSettings,
    *,
    upgrade: bool = False,
    voice: str = "",
    speed: float = NORMAL_SPEED,
) -> Spoken:
    """TTS in `voice` ("" the station's chain) at `speed`, then loudness: returns (path, sha256, engine,
    voice, duration, lufs, true peak)."""
    return _render_reading(spoken, renderer, settings, upgrade=upgrade, voice=voice, speed=speed)[0]


def _render_reading(
    spoken: str, renderer: Renderer, settings: MediaSettings, *, upgrade: bool, voice: str, speed: float
) -> tuple[Spoken, str]:
    """`render_spoken` and the render's settings key (engine settings and speed)."""
    result = renderer.for_voice(voice).render(spoken, upgrade=upgrade)
    spoken_sha = hashlib.sha256(spoken.encode("utf-8")).hexdigest()
    dst = _air_file(settings, spoken_sha, result.engine, result.settings_key, speed)
    dst.parent.mkdir(parents=True, exist_ok=True)
    # Files are written atomically and named by their inputs, so an existing one is complete: measure only.
    if dst.exists():
        measured = measure(dst)
    else:
        # atempo stretches time, not pitch: the words come faster in the same voice.
        source = tempo_source(result.path, speed)
        measured = normalize_source(source, dst, settings.target, settings.fmt, label=result.path.name)
    made = (
        dst,
        file_sha256(dst),
        result.engine,
        result.voice,
        measured.duration_s,
        measured.integrated_lufs,
        measured.true_peak_dbtp,
    )
    return made, reading_key(result.settings_key, speed)


def _version(settings_key: str) -> str | None:
    """The engine version recorded in a settings key ("…;version=1.51"), None when it records none."""
    for part in settings_key.split(";"):
        name, _, value = part.partition("=")
        if name == "version":
            return value
    return None


def _outdated(render: RenderRow, revision: RevisionRow, renderer: Renderer) -> bool:
    """True when the engine that made this speech has been upgraded since (another version now)."""
    made_with = _version(render.settings_key)
    if made_with is None:
        return False
    engine = next((e for e in renderer.for_voice(revision.voice).engines if e.name == render.engine), None)
    return engine is not None and _version(engine.settings_key()) not in (None, made_with)


def ensure_render(
    session: Session,
    revision: RevisionRow,
    renderer: Renderer,
    settings: MediaSettings,
    *,
    now: datetime,
    upgrade: bool = False,
) -> RenderRow:
    """An intact render of the revision: its recording, or its speech reused or made (and stored)."""
    if revision.source_audio:
        return _recording_render(session, revision)
    existing = current_render(session, revision, "speech")
    outdated = False
    if existing is not None and is_intact(existing):
        outdated = _outdated(existing, revision, renderer)
        if not outdated and not (upgrade and revision_on_fallback(existing, revision, renderer.first_engine)):
            return existing
    elif existing is not None:
        # Damaged or truncated: remove it so the content-addressed name is written afresh, not re-measured.
        Path(existing.path).unlink(missing_ok=True)
    try:
        made, key = _render_reading(
            revision.spoken_text,
            renderer,
            settings,
            upgrade=upgrade,
            voice=revision.voice,
            speed=revision.speed,
        )
    except BroadcasterError:
        if outdated and existing is not None:
            return (
                existing  # the upgraded engine fails: the audio it made before still says the approved words
            )
        raise
    if existing is not None and existing.path == str(made[0]) and existing.sha256 == made[1]:
        existing.settings_key = key if outdated else existing.settings_key  # the same audio, now known so
        return existing  # an upgrade that found the preferred engine still down: same audio, no new row
    if outdated and existing is not None and made[2] != existing.engine:
        return existing  # a re-render for an upgrade that fell back to another voice: keep the chosen one
    return add_speech_render(
        session,
        made,
        revision_id=revision.id,
        kind="speech",
        spoken_sha256=revision.spoken_sha256,
        now=now,
        settings_key=key,
    )


def add_speech_render(
    session: Session,
    made: Spoken,
    *,
    revision_id: int | None,
    kind: str,
    spoken_sha256: str,
    now: datetime,
    settings_key: str = "",
) -> RenderRow:
    """Store spoken air audio from `render_spoken` as a render row (a revision's speech, or an ident)."""
    path, sha, engine, voice, duration, lufs, peak = made
    row = RenderRow(
        revision_id=revision_id,
        kind=kind,
        path=str(path),
        sha256=sha,
        duration_s=duration,
        engine=engine,
        voice=voice,
        settings_key=settings_key,
        spoken_sha256=spoken_sha256,
        integrated_lufs=lufs,
        true_peak_dbtp=peak,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def ensure_revision_render(
    session: Session,
    revision_id: int,
    renderer: Renderer,
    settings: MediaSettings,
    *,
    now: datetime,
    upgrade: bool = False,
) -> RenderRow:
    """`ensure_render` for the revision with this id (a batch job holds ids across its transactions)."""
    revision = session.get_one(RevisionRow, revision_id)
    return ensure_render(session, revision, renderer, settings, now=now, upgrade=upgrade)


def render_summary(render: RenderRow, first_engine: str | None, voice: str = "") -> dict[str, object]:
    """A render as the front ends show it: engine, voice, loudness, file, and whether it is whole."""
    return {
        "kind": render.kind,
        "engine": render.engine,
        "voice": render.voice,
        "duration_s": round(render.duration_s, 2),
        "integrated_lufs": render.integrated_lufs,
        "true_peak_dbtp": render.true_peak_dbtp,
        "sha256": render.sha256,
        "path": render.path,
        "created_at": render.created_at,
        "intact": is_intact(render),
        "fallback": first_engine is not None and on_fallback(render, first_engine, voice),
    }


def _recording_render(session: Session, revision: RevisionRow) -> RenderRow:
    """The stored recording of a recording revision; it cannot be remade, so loss is an error."""
    row = current_render(session, revision, "recording")
    if row is None or not is_intact(row):
        raise AudioError(
            f"Bản ghi âm của phiên bản {revision.number} bị mất hoặc hỏng ({revision.source_audio}).",
            "Nhập lại bản ghi âm bằng: broadcaster bulletin add --audio TỆP",
        )
    return row


def check_output_name(out: Path, fmt: OutputFormat) -> None:
    """Refuse an output file whose name would lie about its format, or that is a folder."""
    if out.is_dir():
        raise InputError(f"{out} là một thư mục.", f"Ghi ra một tệp, ví dụ: -o {out}/ban-tin{fmt.extension}")
    if out.suffix.lower() != fmt.extension:
        raise InputError(
            f"Tệp ra {out.name} phải có đuôi {fmt.extension} (định dạng audio.format trong cấu hình).",
            f"Ví dụ: -o ban-tin{fmt.extension}",
        )


def write_preview(src: Path, out: Path, fmt: OutputFormat) -> Path:
    """Copy air audio to the officer's file atomically (temp file beside it, then rename)."""
    check_output_name(out, fmt)
    with replacing(out) as tmp:
        shutil.copyfile(src, tmp)
    return out


@contextmanager
def import_recording(src: Path, settings: MediaSettings, *, max_duration_s: float) -> Iterator[Recording]:
    """Normalise a recording; the file is placed in the media dir only if the with-block succeeds."""
    if not src.is_file():
        raise InputError(f"Không tìm thấy tệp ghi âm {src}.", "Kiểm tra lại đường dẫn tệp.")
    folder = settings.media_dir / "recordings"
    scratch = folder / ".tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    tmp = scratch / f"{uuid.uuid4().hex}{settings.fmt.extension}"
    try:
        measured = normalize(src, tmp, settings.target, settings.fmt, max_duration_s)
        sha = file_sha256(tmp)
        final = folder / sha[:2] / f"{sha}{settings.fmt.extension}"
        yield Recording(
            final, sha, measured.duration_s, measured.integrated_lufs, measured.true_peak_dbtp, src.name
        )
        # Reached only when the caller's transaction committed: the rows now name this file.
        final.parent.mkdir(parents=True, exist_ok=True)
        if not (final.is_file() and file_sha256(final) == sha):
            os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def add_recording_render(
    session: Session, revision: RevisionRow, recording: Recording, *, now: datetime
) -> RenderRow:
    """Store a recording as the revision's air audio (kind 'recording')."""
    row = RenderRow(
        revision_id=revision.id,
        kind="recording",
        path=str(recording.path),
        sha256=recording.sha256,
        duration_s=recording.duration_s,
        engine=RECORDING_ENGINE,
        voice="",
        settings_key=recording.source_name,
        spoken_sha256=revision.spoken_sha256,
        integrated_lufs=recording.integrated_lufs,
        true_peak_dbtp=recording.true_peak_dbtp,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def prerender(
    spoken_texts: list[str],
    renderer: Renderer,
    settings: MediaSettings,
    workers: int = 2,
    *,
    upgrade: bool = False,
    readings: list[tuple[str, float]] | None = None,
) -> None:
    """Render and normalise many texts in parallel (ffmpeg and the engines run as subprocesses);
    `readings`: the (voice, speed) of each text, when not the station's chain at 1×."""
    from concurrent.futures import ThreadPoolExecutor

    paces = readings if readings is not None else [("", NORMAL_SPEED)] * len(spoken_texts)

    def one(item: tuple[str, tuple[str, float]]) -> Spoken:
        text, (voice, speed) = item
        return render_spoken(text, renderer, settings, upgrade=upgrade, voice=voice, speed=speed)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, zip(spoken_texts, paces, strict=True)))
