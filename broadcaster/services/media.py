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

from broadcaster.audio.loudness import LoudnessTarget, OutputFormat, measure, normalize
from broadcaster.errors import AudioError, InputError
from broadcaster.files import file_sha256, replacing
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


def on_fallback(render: RenderRow, first_engine: str) -> bool:
    """True when TTS audio was made by a fallback engine (not the head of the chain)."""
    return render.kind == "speech" and render.engine != first_engine


def needs_render(session: Session, revision: RevisionRow, first_engine: str, *, upgrade: bool) -> bool:
    """True when the revision lacks an intact render, or (upgrade) its speech is on the fallback voice."""
    existing = current_render(session, revision)
    if existing is None or not is_intact(existing):
        return True
    return upgrade and on_fallback(existing, first_engine)


def _air_file(settings: MediaSettings, spoken_sha: str, engine: str, voice: str) -> Path:
    key = hashlib.sha256(
        f"{spoken_sha}|{engine}|{voice}|{settings.target}|{settings.fmt}".encode()
    ).hexdigest()
    return settings.media_dir / key[:2] / f"{key}{settings.fmt.extension}"


def render_spoken(
    spoken: str, renderer: Renderer, settings: MediaSettings, *, upgrade: bool = False
) -> Spoken:
    """TTS then loudness: returns (path, sha256, engine, voice/settings, duration, lufs, true peak)."""
    result = renderer.render(spoken, upgrade=upgrade)
    spoken_sha = hashlib.sha256(spoken.encode("utf-8")).hexdigest()
    dst = _air_file(settings, spoken_sha, result.engine, result.settings_key)
    dst.parent.mkdir(parents=True, exist_ok=True)
    # Files are written atomically and named by their inputs, so an existing one is complete: measure only.
    measured = measure(dst) if dst.exists() else normalize(result.path, dst, settings.target, settings.fmt)
    return (
        dst,
        file_sha256(dst),
        result.engine,
        result.voice,
        measured.duration_s,
        measured.integrated_lufs,
        measured.true_peak_dbtp,
    )


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
    if existing is not None and is_intact(existing):
        if not (upgrade and on_fallback(existing, renderer.first_engine)):
            return existing
    elif existing is not None:
        # Damaged or truncated: remove it so the content-addressed name is written afresh, not re-measured.
        Path(existing.path).unlink(missing_ok=True)
    made = render_spoken(revision.spoken_text, renderer, settings, upgrade=upgrade)
    if existing is not None and existing.path == str(made[0]) and existing.sha256 == made[1]:
        return existing  # an upgrade that found the preferred engine still down: same audio, no new row
    return add_speech_render(
        session, made, revision_id=revision.id, kind="speech", spoken_sha256=revision.spoken_sha256, now=now
    )


def add_speech_render(
    session: Session,
    made: Spoken,
    *,
    revision_id: int | None,
    kind: str,
    spoken_sha256: str,
    now: datetime,
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


def render_summary(render: RenderRow, first_engine: str | None) -> dict[str, object]:
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
        "fallback": first_engine is not None and on_fallback(render, first_engine),
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
) -> None:
    """Render and normalise many texts in parallel (ffmpeg and the engines run as subprocesses)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda text: render_spoken(text, renderer, settings, upgrade=upgrade), spoken_texts))
