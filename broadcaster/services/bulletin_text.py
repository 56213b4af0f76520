"""What a bulletin's text becomes on the page: the spoken text with each rewrite of the normaliser
marked with its rule (the `--explain` view), and word-level differences between two revisions.

`Normalizer.explain` lists the rewrites in reading order but not where they land in the spoken text
(punctuation clean-up runs after them). To place them, the written text is normalised once more with
an invisible marker around each rewritten span; when that reproduces the spoken text exactly, the
markers give the places. Otherwise each rewrite is looked for in order, word by word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from broadcaster import labels
from broadcaster.errors import InputError
from broadcaster.services import bulletins

if TYPE_CHECKING:
    from broadcaster.speech.normalize import Normalizer, Rewrite

# Private-use characters: never in a bulletin's spoken words, and not word characters to the regexes.
_OPEN, _CLOSE = "\ue000", "\ue001"
_WORD_RE = re.compile(r"\w+")
_TOKEN_RE = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Piece:
    """A run of the spoken text; a rewrite when `rule` is set (then `original` is what was written)."""

    text: str
    rule: str = ""
    original: str = ""

    @property
    def title(self) -> str:
        """The tooltip of a marked rewrite: the rule's label and what was written."""
        return f"{labels.rewrite_rule(self.rule)}: viết «{self.original}»" if self.rule else ""


def mark(
    written: str, spoken: str, rewrites: Sequence[Rewrite], normalize: Callable[[str], str]
) -> list[Piece]:
    """The spoken text as pieces, plain and rewritten; joining their texts gives `spoken` back."""
    spans = _by_markers(written, spoken, rewrites, normalize) or _by_search(spoken, rewrites)
    pieces: list[Piece] = []
    at = 0
    for start, end, rewrite in spans:
        if start > at:
            pieces.append(Piece(spoken[at:start]))
        pieces.append(Piece(spoken[start:end], rewrite.rule, rewrite.original))
        at = end
    if at < len(spoken):
        pieces.append(Piece(spoken[at:]))
    return pieces


def _by_markers(
    written: str, spoken: str, rewrites: Sequence[Rewrite], normalize: Callable[[str], str]
) -> list[tuple[int, int, Rewrite]] | None:
    """Spans from a second normalisation with markers around each written span; None if it differs."""
    if not rewrites or _OPEN in written or _CLOSE in written:
        return None
    parts: list[str] = []
    at = 0
    for rewrite in rewrites:
        found = written.find(rewrite.original, at)
        if found < 0:
            return None
        parts += [written[at:found], _OPEN, rewrite.original, _CLOSE]
        at = found + len(rewrite.original)
    parts.append(written[at:])
    marked = normalize("".join(parts))
    spans: list[tuple[int, int, Rewrite]] = []
    plain: list[str] = []
    length = 0
    opened: int | None = None
    for char in marked:
        if char == _OPEN:
            opened = length
        elif char == _CLOSE:
            if opened is None or len(spans) >= len(rewrites):
                return None
            spans.append((opened, length, rewrites[len(spans)]))
            opened = None
        else:
            plain.append(char)
            length += 1
    # A marker before a sentence's first word hides that it opens the sentence: allow case to differ.
    if len(spans) != len(rewrites) or "".join(plain).lower() != spoken.lower():
        return None
    return [(s, e, r) for s, e, r in spans if e > s]


def _by_search(spoken: str, rewrites: Sequence[Rewrite]) -> list[tuple[int, int, Rewrite]]:
    """Spans found by looking for each rewrite's words in order (separators may differ)."""
    spans = []
    at = 0
    for rewrite in rewrites:
        words = _WORD_RE.findall(rewrite.spoken)
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\W+".join(re.escape(w) for w in words) + r"(?!\w)"
        found = re.compile(pattern, re.IGNORECASE).search(spoken, at)
        if found is None:
            continue
        spans.append((found.start(), found.end(), rewrite))
        at = found.end()
    return spans


@dataclass(frozen=True)
class DiffPiece:
    """A run of a word-level difference: 'equal', 'del' (only in the older text) or 'ins' (only newer)."""

    op: str
    text: str


def word_diff(old: str, new: str) -> list[DiffPiece]:
    """Word-level differences between two texts (difflib over words, spaces and punctuation marks)."""
    a, b = _TOKEN_RE.findall(old), _TOKEN_RE.findall(new)
    pieces: list[DiffPiece] = []

    def add(op: str, tokens: list[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if pieces and pieces[-1].op == op:
            pieces[-1] = DiffPiece(op, pieces[-1].text + text)
        else:
            pieces.append(DiffPiece(op, text))

    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            add("equal", b[j1:j2])
        else:
            add("del", a[i1:i2])
            add("ins", b[j1:j2])
    return pieces


@dataclass(frozen=True)
class Explained:
    """A spoken text in pieces (rewrites marked) and the rewrites as rows: written, spoken, rule label."""

    pieces: list[Piece]
    rewrites: list[tuple[str, str, str]]


def explain(written: str, spoken: str, normalizer: Normalizer) -> Explained:
    """Mark where the normaliser rewrote `written` in `spoken` (a stored or a fresh spoken text)."""
    rewrites = normalizer.explain(written)
    return Explained(
        mark(written, spoken, rewrites, normalizer.normalize),
        [(r.original, r.spoken, labels.rewrite_rule(r.rule)) for r in rewrites],
    )


@dataclass(frozen=True)
class SpokenPreview:
    """The editor's preview: what the loudspeakers will say, or why the text cannot be read."""

    spoken: str = ""
    explained: Explained = field(default_factory=lambda: Explained([], []))
    error: str = ""


def spoken_preview(text: str, normalizer: Normalizer, max_chars: int) -> SpokenPreview:
    """The spoken text of an unsaved text with its rewrites; refuses exactly what saving refuses."""
    from broadcaster.speech.normalize import validate_text

    try:
        checked = validate_text(text, max_chars)
        spoken = bulletins._speakable(checked, normalizer.normalize)
    except InputError as exc:
        return SpokenPreview(error=exc.one_line())
    return SpokenPreview(spoken, explain(checked, spoken, normalizer))
