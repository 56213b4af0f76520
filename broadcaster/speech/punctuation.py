"""Layout for speech: join lines broken mid-sentence, drop bullets, turn punctuation into clean pauses."""

from __future__ import annotations

import re
import unicodedata

from broadcaster.speech import numbers as nw

# The only control characters a bulletin may contain.
CONTROL_ALLOWED = frozenset("\n\t")


_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
_UPPER_VOWELS = "".join(sorted({unicodedata.normalize("NFC", v + t) for v in "AĂÂEÊIOÔƠUƯY" for t in _TONES}))
# A regex character-class body of every Vietnamese capital letter.
UPPER_LETTERS = "A-ZĐ" + _UPPER_VOWELS
_SYLLABLE_RE = re.compile(
    rf"(?:NGH|NG|NH|CH|GH|GI|KH|PH|QU|TH|TR|[BCDĐGHKLMNPRSTVX])?[{_UPPER_VOWELS}]{{1,3}}(?:NG|NH|CH|[CMNPT])?"
)


def is_caps_syllable(token: str) -> bool:
    """True for an all-caps Vietnamese syllable ("HOẠCH"), false for an acronym ("UBND", "HIV")."""
    return bool(_SYLLABLE_RE.fullmatch(token))


def capitalise(text: str) -> str:
    """Upper-case the first letter only."""
    return text[:1].upper() + text[1:]


_BULLET_RE = re.compile(r"^(?:[-–—•*●○▪◦·]+|\+(?=\s)|\.\s*[-–—]+)\s*")
_LEADING_MARKS_RE = re.compile(r"^[\s,.:;!?…/\\\-–—*•“”„\"'‘’`()\[\]{}_~|<>=#]+")
# A spaced dash not followed by a figure (so not a range) is settled before the main pass.
_WORD_DASH_RE = re.compile(r"(?:\s+[-–—])+\s+(?!\d)")
_BLOCK_START_RE = re.compile(r"^(?:[IVXLC]+\.|\d+(?:\.\d+)*[.)]|[a-zđ]\))\s")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")
# Quotes are dropped before the main pass, so a word they split is read whole in one go.
_QUOTES_RE = re.compile(r"[“”„‟\"«»`]|(?<!\w)['‘’]|['‘’](?!\w)")
_PUNCT_STEPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\./\."), "."),
    (re.compile(r"\.{3,}|…"), ","),
    (re.compile(r"\s*[()\[\]{}]\s*"), ", "),
    (re.compile(r";"), ","),
    (re.compile(r"\s+-\s+"), " "),
    (re.compile(r"\s*[–—]\s*"), ", "),
    (re.compile(r"[-/\\]"), " "),  # no digits are left by now: any slash or hyphen is a plain gap
    (re.compile(r"&"), " và "),
    (re.compile(r"%"), " phần trăm "),
    (re.compile(r"[*•●▪◦·#_~|<>=+]"), " "),
    (re.compile(r"\s+(?=[,.:!?])"), ""),
)
_ROMAN_HEADING_RE = re.compile(r"([IVX]{1,5})\.(?= \S)")
_PUNCT_RUN_RE = re.compile(r"[,.:!?](?:\s*[,.:!?])+")
_PUNCT_SPACE_RE = re.compile(r"([,.:!?])(?=[^\s,.:!?])")
_LEADING_PUNCT_RE = re.compile(r"^[\s,.:!?-]+")
_TRAILING_PUNCT_RE = re.compile(r"[\s,:;-]+$")


def _strongest(match: re.Match[str]) -> str:
    """A run of punctuation marks becomes its strongest pause."""
    run = match.group(0)
    for mark in ".?!:":
        if mark in run:
            return mark
    return ","


def clean_paragraph(text: str) -> str:
    """Punctuation the engines read as clean pauses; every paragraph ends with a sentence mark."""
    for pattern, replacement in _PUNCT_STEPS:
        text = pattern.sub(replacement, text)
    text = _PUNCT_RUN_RE.sub(_strongest, text)
    text = _PUNCT_SPACE_RE.sub(r"\1 ", text)
    text = _LEADING_PUNCT_RE.sub("", _SPACES_RE.sub(" ", text))
    text = _TRAILING_PUNCT_RE.sub("", text).strip()
    if text and text[-1] not in ".!?":
        text += "."
    # Clean-up can expose a Roman heading ("I/." → "I."): read it here too, so output is a fixed point.
    heading = _ROMAN_HEADING_RE.match(text)
    if heading and (value := nw.roman_to_int(heading.group(1))):
        text = capitalise(nw.number_to_words(value)) + text[heading.end(1) :]
    return text


def _word_dash(match: re.Match[str]) -> str:
    """ "kinh tế - xã hội" joins a compound; "Độc lập – Tự do" is a list, read with a pause."""
    return ", " if re.search("[–—]", match.group(0)) else " "


def _ends_paragraph(current: str, blank_before: bool, line: str) -> bool:
    """Whether the text so far closes a paragraph, given the next line (which starts with no lower case).

    PDF-extracted text breaks lines, and even leaves blank lines, mid-sentence; a break only ends a
    paragraph after sentence punctuation, after a numbered heading, or at a blank line, unless that
    blank line sits before an abbreviation in running text ("phòng chống \n\nHIV/AIDS").
    """
    if current[-1] in ".!?:;…" or _BLOCK_START_RE.match(current):
        return True
    if not blank_before:
        return False
    first = re.split(r"[\s/.,;:-]", line, maxsplit=1)[0]
    abbreviation = len(first) > 1 and first.isupper() and not is_caps_syllable(first)
    return current.upper() == current or not abbreviation


def split_paragraphs(text: str) -> list[str]:
    """Join lines broken mid-sentence (the seed PDF text has many); keep bullets and headings apart."""
    paragraphs: list[str] = []
    current = ""
    blank_before = False
    for raw in text.split("\n"):
        line = _SPACES_RE.sub(" ", raw).strip()
        if not line:
            blank_before = True
            continue
        bullet = _BULLET_RE.match(line)
        if bullet and bullet.end() < len(line):
            line = line[bullet.end() :]
        line = _WORD_DASH_RE.sub(_word_dash, _LEADING_MARKS_RE.sub("", line)).rstrip(" -–—")
        if not line:
            continue
        starts_block = bool(bullet) or bool(_BLOCK_START_RE.match(line))
        if current and (
            starts_block
            or current[-1] in ".!?"
            or (not line[0].islower() and _ends_paragraph(current, blank_before, line))
        ):
            paragraphs.append(current)
            current = line
        else:
            current = f"{current} {line}" if current else line
        blank_before = False
    if current:
        paragraphs.append(current)
    return paragraphs


def prepare(text: str) -> str:
    """NFC, Windows line ends made Unix, other control characters turned into spaces."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _QUOTES_RE.sub("", text)
    return "".join(" " if unicodedata.category(c) == "Cc" and c not in CONTROL_ALLOWED else c for c in text)
