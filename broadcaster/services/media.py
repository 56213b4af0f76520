"""Audio for air: render a revision's spoken text, normalise its loudness, store it as a render."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.audio.loudness import LoudnessTarget, OutputFormat, measure, normalize
from broadcaster.speech.render import Renderer
from broadcaster.store.models import RenderRow, RevisionRow


def file_sha256(path: Path) -> str:
    """sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class MediaSettings:
    """Where air audio goes and how loud it must be."""

    media_dir: Path
    target: LoudnessTarget
    fmt: OutputFormat


def is_intact(render: RenderRow) -> bool:
    """True if the render's file exists and still has the recorded sha256."""
    path = Path(render.path)
    return path.exists() and file_sha256(path) == render.sha256


def current_render(session: Session, revision: RevisionRow, kind: str = "speech") -> RenderRow | None:
    """The newest render of this revision's approved spoken text, if any."""
    q = (
        select(RenderRow)
        .where(RenderRow.revision_id == revision.id, RenderRow.kind == kind)
        .where(RenderRow.spoken_sha256 == revision.spoken_sha256)
        .order_by(RenderRow.id.desc())
        .limit(1)
    )
    return session.scalar(q)


def _air_file(settings: MediaSettings, spoken_sha: str, engine: str, voice: str) -> Path:
    key = hashlib.sha256(
        f"{spoken_sha}|{engine}|{voice}|{settings.target}|{settings.fmt}".encode()
    ).hexdigest()
    return settings.media_dir / key[:2] / f"{key}.{settings.fmt.extension}"


def render_spoken(
    spoken: str, renderer: Renderer, settings: MediaSettings, *, upgrade: bool = False
) -> tuple[Path, str, str, str, float, float, float]:
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
    """An intact render of the revision's spoken text: reuse, or make (and store) a new one."""
    existing = current_render(session, revision)
    if (
        existing is not None
        and is_intact(existing)
        and not (upgrade and existing.engine != renderer.first_engine)
    ):
        return existing
    path, sha, engine, voice, duration, lufs, peak = render_spoken(
        revision.spoken_text, renderer, settings, upgrade=upgrade
    )
    row = RenderRow(
        revision_id=revision.id,
        kind="speech",
        path=str(path),
        sha256=sha,
        duration_s=duration,
        engine=engine,
        voice=voice,
        spoken_sha256=revision.spoken_sha256,
        integrated_lufs=lufs,
        true_peak_dbtp=peak,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def prerender(spoken_texts: list[str], renderer: Renderer, settings: MediaSettings, workers: int = 2) -> None:
    """Render and normalise many texts in parallel (ffmpeg and the engines run as subprocesses)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda text: render_spoken(text, renderer, settings), spoken_texts))
