"""One error tree: every failure a station user can meet says what went wrong and what to do."""

from __future__ import annotations


class BroadcasterError(Exception):
    """Base of every error the CLI turns into one line and exit code 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message and the hint as one line for the operator."""
        text = self.message.strip().replace("\n", " ")
        if self.hint:
            text = f"{text} — {self.hint.strip()}"
        return text


class ConfigError(BroadcasterError):
    """The configuration file or environment holds a bad key or value."""


class ScheduleFileError(BroadcasterError):
    """A schedules/*.toml file is invalid; the message names file, line and key."""


class NotFoundError(BroadcasterError):
    """A station, campaign, bulletin, session or airing named by the user does not exist."""


class PermissionDenied(BroadcasterError):
    """The acting user lacks the role for this step."""


class InvalidStateError(BroadcasterError):
    """The step is not allowed in the object's current state (e.g. queueing an unapproved bulletin)."""


class InputError(BroadcasterError):
    """Text, file or option given by the user is unusable; `field` names the form field, when there is one."""

    def __init__(self, message: str, hint: str | None = None, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message, hint)


class SpeechError(BroadcasterError):
    """Text normalisation or a lexicon failed."""


class EngineError(SpeechError):
    """A TTS engine failed; `retryable` says whether a retry or fallback makes sense."""

    def __init__(self, message: str, hint: str | None = None, *, retryable: bool = False) -> None:
        self.retryable = retryable
        super().__init__(message, hint)


class AudioError(BroadcasterError):
    """ffmpeg or an audio file failed: corrupt, silent, too long, undecodable."""


class ToolMissingError(BroadcasterError):
    """An external program (ffmpeg, espeak-ng, a player) is not installed."""


class StoreError(BroadcasterError):
    """The database refused a change or is not initialised."""


class AirLogError(StoreError):
    """The as-run log was asked to do what an append-only log cannot (update, delete)."""


class PlanningError(BroadcasterError):
    """A plan request cannot be met: outside allowed hours, session overfull, no such session."""


class PlayoutError(BroadcasterError):
    """The daemon or a player failed: lock held, output missing, player crashed."""
