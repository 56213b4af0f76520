"""Vietnamese administrative text → exactly the words a speaker says, for the TTS engines."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from broadcaster.errors import InputError, SpeechError
from broadcaster.speech import numbers as nw
from broadcaster.speech.lexicon import Lexicon, default_lexicon, load_lexicon, station_lexicon
from broadcaster.speech.punctuation import (
    CONTROL_ALLOWED,
    UPPER_LETTERS,
    capitalise,
    clean_paragraph,
    is_caps_syllable,
    prepare,
    split_paragraphs,
)

__all__ = [
    "NORMALIZER_VERSION",
    "DocNumberRule",
    "Lexicon",
    "Normalizer",
    "Rewrite",
    "decimal_to_words",
    "default_lexicon",
    "load_lexicon",
    "number_to_words",
    "station_lexicon",
    "validate_text",
]

# Bump whenever a rule changes what is spoken: it is part of the render cache key.
NORMALIZER_VERSION = "2026.11.1"

number_to_words = nw.number_to_words
decimal_to_words = nw.decimal_to_words


class DocNumberRule(StrEnum):
    """How a document number such as "61/KH-UBND" or "15/2023/NĐ-CP" is read aloud."""

    # Default, as announcers say it: "kế hoạch số sáu mươi mốt của ủy ban nhân dân";
    # the type is dropped when the sentence has just said it ("Kế hoạch số 61/KH-UBND").
    NATURAL = "natural"
    # Every part in written order, "/" read as "trên": "sáu mươi mốt trên kế hoạch ủy ban nhân dân".
    SLASH = "slash"
    # Only the number (and year): "sáu mươi mốt"; codes are dropped.
    NUMBER = "number"


@dataclass(frozen=True)
class Rewrite:
    """One rewrite the normaliser made: the written span, what is spoken instead, and the rule."""

    original: str
    spoken: str
    rule: str


# --- patterns that do not depend on the lexicon ------------------------------------------------
_CODE = r"[A-ZĐ][A-Za-zĐđ&]*"
_NUM = r"\d+(?:[.,]\d+)*"
_UNITS: dict[str, str] = {
    "km/h": "ki lô mét trên giờ",
    "km²": "ki lô mét vuông",
    "km2": "ki lô mét vuông",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "cm": "xen ti mét",
    "mm": "mi li mét",
    "km": "ki lô mét",
    "kg": "ki lô gam",
    "ha": "héc ta",
    "m": "mét",
    "%": "phần trăm",
    "‰": "phần nghìn",
    "đ": "đồng",
    "VNĐ": "đồng",
    "VND": "đồng",
    "USD": "đô la mỹ",
}
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_ROMAN_TRIGGERS = (
    "quý|chương|phần|mục|khóa|khoá|kỳ|kì|đại hội|thế kỷ|thế kỉ|lần thứ|thứ|tập|hạng|loại|nhiệm kỳ|giai đoạn"
)
_HOTLINE_WORDS = "gọi|hotline|đường dây nóng|tổng đài|điện thoại|sđt|đtdđ|đt|fax"

_STATIC_ALTERNATIVES: tuple[str, ...] = (
    rf"(?P<doc>(?:(?P<doc_pre>\b(?i:số))\s*:?\s*(?P<doc_n>\d+)?|(?<![\w/])(?P<doc_n2>\d+))"
    rf"(?:/(?P<doc_y>\d{{4}}))?/(?P<doc_c>{_CODE}(?:-{_CODE})*)(?![\w&]))",
    rf"(?P<hot>(?P<hot_w>\b(?i:{_HOTLINE_WORDS})(?:\s+(?:số|đến|tới|ngay|cho|vào))*\s*:?\s*)"
    r"(?P<hot_n>\+?\d(?:\d|[ .\-](?=\d)){2,})(?![\d,]\d))",
    r"(?P<phone>(?<![\d.,])(?:(?:\+84[ .\-]?\d{2,3}|0\d{2,3})(?:[ .\-]?\d{3,4}){2}"
    r"|1[89]00[ .\-]?\d{3,4}(?:[ .\-]?\d{2,4})?)(?!\d))",
    r"(?P<date>(?:(?P<date_pre>\b(?i:ngày|mùng))\s+)?(?<![\d/.])(?P<date_d>\d{1,2})(?P<date_sep>[/.\-])"
    r"(?P<date_m>\d{1,2})(?P=date_sep)(?P<date_y>\d{4})(?![\d/]))",
    r"(?P<dm>(?:(?P<dm_pre>\b(?i:ngày|mùng))\s+)?(?<![\d/.,])(?P<dm_d>\d{1,2})/(?P<dm_m>\d{1,2})(?![\d/]|[.,]\d))",
    r"(?P<my>(?<![\d/.,])(?P<my_m>0?[1-9]|1[0-2])/(?P<my_y>\d{4})(?![\d/]))",
    r"(?P<frac>(?<![\d/.,])(?P<fr_a>\d+)/(?P<fr_b>\d+)(?![\d/]|[.,]\d))",
    r"(?P<mo>(?P<mo_w>\b(?i:tháng))\s+(?P<mo_m>0?[1-9]|1[0-2])(?:[/\-](?P<mo_y>\d{4}))?(?![\d/]|[.,]\d))",
    rf"(?P<rom>(?P<rom_w>\b(?i:{_ROMAN_TRIGGERS}))\s+(?P<rom_n>[IVXLC]+)(?:/(?P<rom_y>\d{{4}}))?(?![\w]))",
    r"(?P<ord>(?P<ord_w>\b(?i:thứ))\s+(?P<ord_n>\d{1,3})(?![\d/:hH]|[.,]\d))",
    r"(?P<head>^(?P<head_n>[IVX]{1,5}(?=[ \t]*\.[ \t]*\S)|\d{1,2}(?=[.)][ \t]+\S))[ \t]*[.)])",
    r"(?P<tm>(?<![\d.,])(?P<tm_h>[01]?\d|2[0-4])[hH](?P<tm_m>[0-5]\d)?(?:\s?phút|'|p)?(?![\w]))",
    r"(?P<clk>(?<![\d.,:])(?P<clk_h>[01]?\d|2[0-4]):(?P<clk_m>[0-5]\d)(?::[0-5]\d)?(?:\s?phút)?(?![\d:]))",
    r"(?P<gp>(?<![\d.,])(?P<gp_h>[01]?\d|2[0-4])\s+giờ\s+(?P<gp_m>[0-5]?\d)(?!\s*phút)(?![\w]|[.,]\d))",
    rf"(?P<rng>(?<![\d.,])(?P<rng_a>{_NUM})(?:\s?(?P<rng_u>{_UNIT_ALT})(?![\w]))?\s*[-–—]\s*(?=\d))",
    rf"(?P<num>(?P<num_v>{_NUM})(?:\s?(?P<num_u>{_UNIT_ALT})(?![\w]))?)",
    rf"(?P<cmp>(?<![\w])(?P<cmp_t>{_CODE}(?:-{_CODE})+)(?![\w&]))",
)


def validate_text(text: str, max_chars: int = 5000) -> str:
    """Check a bulletin text is usable; returns it NFC-normalised (CRLF → LF) or raises InputError."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    if not text.strip():
        raise InputError("Nội dung bản tin trống.", "Hãy nhập nội dung cần phát thanh rồi thử lại.")
    if len(text) > max_chars:
        raise InputError(
            f"Nội dung bản tin dài {len(text)} ký tự, vượt giới hạn {max_chars} ký tự.",
            "Hãy rút gọn nội dung hoặc chia thành nhiều bản tin ngắn hơn.",
        )
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cc" and char not in CONTROL_ALLOWED:
            line = text.count("\n", 0, index) + 1
            column = index - (text.rfind("\n", 0, index) + 1) + 1
            raise InputError(
                f"Nội dung bản tin có ký tự điều khiển không hợp lệ (U+{ord(char):04X}) "
                f"ở dòng {line}, cột {column}.",
                "Hãy xóa ký tự này (thường sinh ra khi sao chép từ phần mềm khác) rồi thử lại.",
            )
    return text


def _starts_sentence(source: str, start: int) -> bool:
    """True when nothing but spaces separates `start` from the previous sentence end or line start."""
    index = start - 1
    while index >= 0 and source[index] == " ":  # walk back instead of slicing: no O(n²) on long texts
        index -= 1
    return index < 0 or source[index] in ".!?\n"


Sink = Callable[[Rewrite], None]


class Normalizer:
    """Rewrites numbers, dates, times, document numbers and abbreviations into spoken Vietnamese."""

    def __init__(
        self, lexicon: Lexicon | None = None, doc_rule: DocNumberRule | str = DocNumberRule.NATURAL
    ) -> None:
        self.lexicon = lexicon if lexicon is not None else default_lexicon()
        try:
            self.doc_rule = DocNumberRule(doc_rule)
        except ValueError:
            choices = ", ".join(r.value for r in DocNumberRule)
            raise SpeechError(
                f"Cách đọc số hiệu văn bản '{doc_rule}' không hợp lệ.", f"Hãy chọn một trong: {choices}."
            ) from None
        self._words_ci = {k.casefold(): v for k, v in self.lexicon.words.items() if k.upper() != k}
        keys = sorted(self.lexicon.words, key=len, reverse=True)
        lex_alt = "|".join(self._key_pattern(k) for k in keys) or r"(?!x)x"
        self._lex_re = re.compile(rf"(?<![\w])(?:{lex_alt})")
        pattern = "|".join(
            (
                *_STATIC_ALTERNATIVES,
                rf"(?P<lex>(?<![\w])(?:{lex_alt}))",
                rf"(?P<caps>(?<![\w])[{UPPER_LETTERS}]{{2,}}(?![\w]))",
            )
        )
        self._master = re.compile(pattern, re.MULTILINE)
        digest = hashlib.sha256(f"{NORMALIZER_VERSION}|{self.doc_rule}|{self.lexicon.digest()}".encode())
        self.fingerprint = f"{NORMALIZER_VERSION}-{digest.hexdigest()[:12]}"

    @staticmethod
    def _key_pattern(key: str) -> str:
        """A lexicon key as a whole-token pattern; keys with lower-case letters match any case."""
        body = re.escape(key)
        if key.upper() != key:
            body = f"(?i:{body})"
        return body + (r"(?![\w&])" if key[-1].isalnum() else "")

    def normalize(self, text: str) -> str:
        """The spoken text: one paragraph per line, NFC, only words and pause punctuation."""
        return self._run(text, None)

    def explain(self, text: str) -> list[Rewrite]:
        """Every rewrite normalize() makes, in reading order (for `--explain` and the approver)."""
        rewrites: list[Rewrite] = []
        self._run(text, rewrites.append)
        return rewrites

    def _run(self, text: str, sink: Sink | None) -> str:
        """Paragraphs → one regex pass with a dispatching callback → punctuation clean-up."""
        joined = "\n".join(split_paragraphs(prepare(text)))

        def replace(match: re.Match[str]) -> str:
            rule = match.lastgroup or ""
            spoken, rule_name = self._dispatch(rule, match)
            if sink is not None and spoken != match.group(0):
                sink(Rewrite(match.group(0), spoken, rule_name))
            return spoken

        spoken = self._master.sub(replace, joined)
        cleaned = (clean_paragraph(p) for p in spoken.split("\n"))
        return unicodedata.normalize("NFC", "\n".join(p for p in cleaned if p))

    def _dispatch(self, rule: str, m: re.Match[str]) -> tuple[str, str]:
        """Call the handler of the alternative that matched."""
        handler: Callable[[re.Match[str]], tuple[str, str]] = getattr(self, f"_on_{rule}")
        return handler(m)

    # --- handlers: each returns (spoken text, rule name) ----------------------------------------
    def _on_doc(self, m: re.Match[str]) -> tuple[str, str]:
        pre, number, year = m.group("doc_pre"), m.group("doc_n") or m.group("doc_n2"), m.group("doc_y")
        codes = m.group("doc_c").split("-")
        spoken_codes = [self.lexicon.code(c) or c for c in codes]
        num_words = nw.integer_string_to_words(number.lstrip("0") or "0") if number else ""
        year_words = nw.number_to_words(int(year)) if year else ""
        if self.doc_rule is DocNumberRule.SLASH:
            parts = [p for p in (num_words, year_words, " ".join(spoken_codes)) if p]
            body = " trên ".join(parts)
            return (f"{pre} {body}" if pre else body), "doc_number"
        tail = f"{num_words} năm {year_words}" if year_words else num_words
        if self.doc_rule is DocNumberRule.NUMBER:
            return (f"{pre} {tail}" if pre and tail else tail), "doc_number"
        doc_type = self.lexicon.document_types.get(codes[0])
        issuers = spoken_codes[1:] if doc_type else spoken_codes
        context = m.string[max(0, m.start() - 40) : m.start()].casefold()
        words: list[str] = []
        if doc_type and doc_type.casefold() not in context:
            words.append(doc_type)
            if tail:
                words.append("số")
        elif pre and tail:
            words.append(pre)
        if tail:
            words.append(tail)
        if issuers:
            words.append("của " + " và ".join(issuers))
        spoken = " ".join(words)
        if pre and pre[0].isupper():
            spoken = capitalise(spoken)
        return spoken, "doc_number"

    def _on_hot(self, m: re.Match[str]) -> tuple[str, str]:
        prefix = self._lex_re.sub(lambda x: self._lookup(x.group(0)) or x.group(0), m.group("hot_w"))
        digits = re.sub(r"\D", "", m.group("hot_n"))
        # 3-digit numbers after "gọi" are only hotlines when they are the 11x emergency services.
        if len(digits) == 3 and not digits.startswith("11"):
            return prefix + nw.number_to_words(int(digits)), "number"
        return prefix + nw.phone_to_words(m.group("hot_n")), "phone"

    def _on_phone(self, m: re.Match[str]) -> tuple[str, str]:
        return nw.phone_to_words(m.group("phone")), "phone"

    def _date(self, pre: str | None, day: int, month: int, year: int | None) -> str:
        """ "ngày" + the date, keeping the writer's own "ngày"/"mùng" instead of doubling it."""
        return f"{pre or 'ngày'} {nw.date_to_words(day, month, year)}"

    def _on_date(self, m: re.Match[str]) -> tuple[str, str]:
        day, month, year = int(m.group("date_d")), int(m.group("date_m")), int(m.group("date_y"))
        if not nw.is_valid_date(day, month):
            parts = (m.group("date_d"), m.group("date_m"), m.group("date_y"))
            spoken = " trên ".join(nw.integer_string_to_words(p) for p in parts)
            pre = m.group("date_pre")
            return (f"{pre} {spoken}" if pre else spoken), "number"
        return self._date(m.group("date_pre"), day, month, year), "date"

    def _on_dm(self, m: re.Match[str]) -> tuple[str, str]:
        day, month = int(m.group("dm_d")), int(m.group("dm_m"))
        if not nw.is_valid_date(day, month):
            pre = m.group("dm_pre")
            spoken = f"{nw.number_to_words(day)} trên {nw.number_to_words(month)}"
            return (f"{pre} {spoken}" if pre else spoken), "fraction"
        return self._date(m.group("dm_pre"), day, month, None), "date"

    def _on_my(self, m: re.Match[str]) -> tuple[str, str]:
        return f"tháng {nw.date_to_words(None, int(m.group('my_m')), int(m.group('my_y')))[6:]}", "date"

    def _on_frac(self, m: re.Match[str]) -> tuple[str, str]:
        a, b = (nw.integer_string_to_words(m.group(g)) for g in ("fr_a", "fr_b"))
        return f"{a} trên {b}", "fraction"

    def _on_mo(self, m: re.Match[str]) -> tuple[str, str]:
        year = m.group("mo_y")
        spoken = nw.date_to_words(None, int(m.group("mo_m")), int(year) if year else None)
        return f"{m.group('mo_w')} {spoken[6:]}", "date"

    def _on_rom(self, m: re.Match[str]) -> tuple[str, str]:
        trigger, value = m.group("rom_w"), nw.roman_to_int(m.group("rom_n"))
        if trigger.isupper():
            trigger = capitalise(trigger.lower())
        if value is None:
            spoken = f"{trigger} {m.group('rom_n')}"
        elif trigger.casefold().endswith("thứ"):
            spoken = f"{trigger} {nw.ordinal_to_words(value)}"
        else:
            spoken = f"{trigger} {nw.number_to_words(value)}"
        if m.group("rom_y"):
            spoken += f" năm {nw.number_to_words(int(m.group('rom_y')))}"
        return spoken, "roman"

    def _on_ord(self, m: re.Match[str]) -> tuple[str, str]:
        return f"{m.group('ord_w')} {nw.ordinal_to_words(int(m.group('ord_n')))}", "ordinal"

    def _on_head(self, m: re.Match[str]) -> tuple[str, str]:
        label = m.group("head_n")
        value = int(label) if label.isdigit() else nw.roman_to_int(label)
        return (capitalise(nw.number_to_words(value)) + "." if value is not None else m.group(0)), "heading"

    def _on_tm(self, m: re.Match[str]) -> tuple[str, str]:
        return nw.time_to_words(int(m.group("tm_h")), int(m.group("tm_m") or 0)), "time"

    def _on_clk(self, m: re.Match[str]) -> tuple[str, str]:
        return nw.time_to_words(int(m.group("clk_h")), int(m.group("clk_m"))), "time"

    def _on_gp(self, m: re.Match[str]) -> tuple[str, str]:
        return nw.time_to_words(int(m.group("gp_h")), int(m.group("gp_m"))), "time"

    def _on_rng(self, m: re.Match[str]) -> tuple[str, str]:
        unit = m.group("rng_u")
        spoken = nw.numeral_to_words(m.group("rng_a")) + (f" {_UNITS[unit]}" if unit else "")
        return f"{spoken} đến ", "range"

    def _on_num(self, m: re.Match[str]) -> tuple[str, str]:
        value, unit = m.group("num_v"), m.group("num_u")
        spoken = nw.numeral_to_words(value)
        if unit:
            return f"{spoken} {_UNITS[unit]}", ("percent" if unit == "%" else "unit")
        return spoken, ("decimal" if "," in value else "number")

    def _on_cmp(self, m: re.Match[str]) -> tuple[str, str]:
        text = m.group("cmp_t")
        whole = self._lookup(text)
        if whole:
            return self._sentence_case(m, whole), "lexicon"
        parts = [self._lookup(p) or self.lexicon.code(p) or p for p in text.split("-")]
        return self._sentence_case(m, " ".join(parts)), "lexicon"

    def _on_lex(self, m: re.Match[str]) -> tuple[str, str]:
        return self._sentence_case(m, self._lookup(m.group(0)) or m.group(0)), "lexicon"

    def _on_caps(self, m: re.Match[str]) -> tuple[str, str]:
        # An all-caps word that is a Vietnamese syllable is a heading word ("KẾ HOẠCH"), not an
        # acronym: lower-case it so no engine spells it. Roman numerals and acronyms stay as written.
        token = m.group("caps")
        if nw.roman_to_int(token) or not is_caps_syllable(token):
            return token, "caps"
        return self._sentence_case(m, token.lower()), "caps"

    def _lookup(self, token: str) -> str | None:
        """The spoken form of a whole token, case-sensitive for ALL-CAPS keys."""
        return self.lexicon.words.get(token) or self._words_ci.get(token.casefold())

    @staticmethod
    def _sentence_case(m: re.Match[str], spoken: str) -> str:
        """Capitalise an expansion that opens a sentence, so the approver reads normal prose."""
        return capitalise(spoken) if _starts_sentence(m.string, m.start()) else spoken
