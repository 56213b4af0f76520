"""Listening to bulletins: a draft text's preview audio, a revision's air audio, the render after approval.

Every file here is air audio from `media`: content-addressed and loudness-normalised, so what an
officer or a leader hears in the console is byte for byte what the daemon will play.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy.orm import Session

from broadcaster.errors import InputError, NotFoundError
from broadcaster.services import bulletins, media
from broadcaster.services.users import get_user
from broadcaster.store.models import RenderRow

if TYPE_CHECKING:
    from datetime import datetime

    from broadcaster.speech.render import Renderer
    from broadcaster.speech.voices import VoiceOffer

# Recordings a person may upload: what `bulletin add --audio` documents, plus what browsers record
# with MediaRecorder (WebM or Ogg holding Opus). ffmpeg decodes them all; the import normalises them.
RECORDING_SUFFIXES = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm")
# An upload larger than this is refused before ffmpeg sees it (an hour of WAV at 44.1 kHz is ~320 MB).
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_KEY_RE = re.compile(r"[0-9a-f]{64}")
_MEDIA_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
}


@dataclass(frozen=True)
class Listening:
    """A file to play in the browser, what made it, and the name it is served under."""

    path: Path
    sha256: str
    duration_s: float
    kind: str  # "speech" or "recording"
    engine: str
    fallback: bool  # spoken by a fallback engine, not the preferred one

    @property
    def key(self) -> str:
        """The content-addressed name of the file (its stem), used in preview URLs."""
        return self.path.stem

    @property
    def media_type(self) -> str:
        """The file's MIME type for the browser."""
        return media_type(self.path)


def media_type(path: Path) -> str:
    """The MIME type of an air audio file, from its suffix."""
    return _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def _listening(row: RenderRow, first_engine: str, voice: str = "") -> Listening:
    fallback = media.on_fallback(row, first_engine, voice)
    return Listening(Path(row.path), row.sha256, row.duration_s, row.kind, row.engine, fallback)


def preview_text(
    text: str,
    *,
    speak: Callable[[str], str],
    renderer: Renderer,
    settings: media.MediaSettings,
    voice: str | None = None,
    speed: str | float | None = None,
    offer: VoiceOffer | None = None,
) -> Listening:
    """Air audio of a text not yet saved (the editor's *Nghe thử*) in the voice and at the speed chosen
    beside it; refuses what saving would refuse."""
    chosen_voice, chosen_speed = bulletins.choose_reading(offer, voice, speed)
    spoken = bulletins._speakable(text, speak)
    path, sha, engine, _voice, duration, _lufs, _peak = media.render_spoken(
        spoken, renderer, settings, voice=chosen_voice, speed=chosen_speed
    )
    expected = media.preferred_engine(chosen_voice, renderer.first_engine)
    return Listening(path, sha, duration, "speech", engine, engine != expected)


def preview_file(settings: media.MediaSettings, key: str) -> Path:
    """The preview file named `key` (from `preview_text`), or NotFoundError; no other path is reachable."""
    if not _KEY_RE.fullmatch(key):
        raise NotFoundError("Không có bản nghe thử này.", "Bấm Nghe thử lại để tạo âm thanh.")
    path = settings.media_dir / key[:2] / f"{key}{settings.fmt.extension}"
    if not path.is_file():
        raise NotFoundError("Bản nghe thử không còn nữa.", "Bấm Nghe thử lại để tạo âm thanh.")
    return path


def revision_audio(
    session: Session,
    bulletin_id: int,
    number: int,
    *,
    actor: str | None,
    renderer: Renderer,
    settings: media.MediaSettings,
    now: datetime,
) -> Listening:
    """The air audio of one revision, rendered now if it has none yet (anyone signed in may listen)."""
    get_user(session, actor)
    row = bulletins.get(session, bulletin_id)
    revision = next((r for r in row.revisions if r.number == number), None)
    if revision is None:
        raise NotFoundError(
            f"Bản tin {bulletin_id} không có phiên bản {number}.", "Xem các phiên bản ở trang của bản tin."
        )
    render = media.ensure_render(session, revision, renderer, settings, now=now)
    return _listening(render, renderer.first_engine, revision.voice)


def render_approved(
    session: Session, bulletin_id: int, renderer: Renderer, settings: media.MediaSettings, *, now: datetime
) -> Listening:
    """Make (or find) the air audio of a bulletin's approved revision, right after approval.

    Called in its own transaction after `bulletins.approve` commits (by the CLI and the console), so
    a render failure leaves the approval standing and the audio for `speech render` or the daemon.
    """
    revision = bulletins.approved_revision(bulletins.get(session, bulletin_id))
    render = media.ensure_render(session, revision, renderer, settings, now=now)
    return _listening(render, renderer.first_engine, revision.voice)


def check_recording_name(filename: str) -> str:
    """The suffix of an uploaded recording's name, refusing formats the station does not take."""
    if not filename:
        raise InputError(
            "Chưa chọn tệp ghi âm.", "Chọn tệp âm thanh, hoặc bấm Ghi âm để ghi bằng micro.", field="audio"
        )
    suffix = Path(filename).suffix.lower()
    if suffix not in RECORDING_SUFFIXES:
        shown = ", ".join(s.lstrip(".").upper() for s in RECORDING_SUFFIXES)
        raise InputError(
            f"Tệp '{filename}' không phải bản ghi âm dùng được.",
            f"Chọn tệp âm thanh dạng {shown}.",
            field="audio",
        )
    return suffix


def save_upload(stream: IO[bytes], filename: str, scratch: Path) -> Path:
    """Copy an uploaded recording to a private scratch file (its suffix kept, for ffmpeg) and return it."""
    suffix = check_recording_name(filename)
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f"upload-{uuid.uuid4().hex}{suffix}"
    size = 0
    with path.open("wb") as out:
        while size <= MAX_UPLOAD_BYTES and (block := stream.read(1 << 20)):
            out.write(block)
            size += len(block)
    if size == 0 or size > MAX_UPLOAD_BYTES:
        path.unlink(missing_ok=True)
        message = "Tệp ghi âm rỗng." if size == 0 else "Tệp ghi âm quá lớn (hơn 200 MB)."
        raise InputError(message, "Chọn lại tệp, hoặc ghi âm lại.", field="audio")
    return path


@contextmanager
def uploaded(
    stream: IO[bytes], filename: str, settings: media.MediaSettings, *, scratch: Path, max_duration_s: float
) -> Iterator[media.Recording]:
    """An uploaded recording, normalised (see `media.import_recording`: placed only if the block succeeds)."""
    path = save_upload(stream, filename, scratch)
    try:
        with media.import_recording(path, settings, max_duration_s=max_duration_s) as recording:
            yield recording
    finally:
        path.unlink(missing_ok=True)
