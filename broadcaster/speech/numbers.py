"""Vietnamese number words: cardinals, digits, decimals, ordinals, Roman numerals, dates and times."""

from __future__ import annotations

import re

DIGITS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Every word number_to_words may produce; tests use it to prove nothing else leaks out.
NUMBER_WORDS: frozenset[str] = frozenset(
    {*DIGITS, "mười", "mươi", "mốt", "tư", "lăm", "linh", "trăm", "nghìn", "triệu", "tỷ"}
)

_BILLION = 1_000_000_000
_GROUP_NAMES: tuple[str, ...] = ("", "nghìn", "triệu")
# Beyond this many digits a figure is a code (ID card, account), not an amount: read digit by digit.
_MAX_AMOUNT_DIGITS = 15

_ROMAN_RE = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")


def _below_thousand(n: int, full: bool) -> list[str]:
    """Words for 0 < n < 1000; `full` says the hundreds must be read even when zero ("không trăm")."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if full or hundreds:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")  # "linh" rather than "lẻ": the northern, broadcast form
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
    else:
        words += [DIGITS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(units, DIGITS[units]))
    return words


def _below_billion(n: int, full: bool) -> list[str]:
    """Words for 0 < n < 10^9 as groups of three; inner groups are read in full ("không trăm linh")."""
    groups = [n // 1_000_000, n // 1000 % 1000, n % 1000]
    words: list[str] = []
    for index, group in enumerate(groups):
        if not group:
            continue
        words += _below_thousand(group, full or bool(words))
        name = _GROUP_NAMES[2 - index]
        if name:
            words.append(name)
    return words


def number_to_words(n: int) -> str:
    """Read a non-negative integer by Vietnamese rules: 21 → hai mươi mốt, 105 → một trăm linh năm."""
    if n < 0:
        raise ValueError(f"negative number: {n}")
    if n == 0:
        return DIGITS[0]
    if n >= _BILLION:
        high, low = divmod(n, _BILLION)
        text = f"{number_to_words(high)} tỷ"
        return f"{text} {' '.join(_below_billion(low, True))}" if low else text
    return " ".join(_below_billion(n, False))


def digits_to_words(digits: str) -> str:
    """Read a string digit by digit: "0912" → không chín một hai (non-digits are dropped)."""
    return " ".join(DIGITS[int(c)] for c in digits if c.isdigit())


def integer_string_to_words(text: str) -> str:
    """Read a run of digits as a number; long zero-led or very long runs are codes read digit by digit."""
    if (len(text) > 2 and text.startswith("0")) or len(text) > _MAX_AMOUNT_DIGITS:
        return digits_to_words(text)
    return number_to_words(int(text))


def decimal_to_words(text: str) -> str:
    """Read a Vietnamese decimal: "2,5" → hai phẩy năm, "1.234,05" → ... phẩy không năm."""
    whole, _, fraction = text.partition(",")
    words = integer_string_to_words(whole.replace(".", "")) if whole else DIGITS[0]
    if not fraction:
        return words
    stripped = fraction.lstrip("0")
    parts = [DIGITS[0]] * (len(fraction) - len(stripped))
    if stripped:
        # Two significant digits read as a number ("phẩy hai mươi lăm"); longer tails digit by digit.
        parts.append(number_to_words(int(stripped)) if len(stripped) <= 2 else digits_to_words(stripped))
    return f"{words} phẩy {' '.join(parts)}"


def numeral_to_words(text: str) -> str:
    """Read a written figure: thousands dots, decimal comma, or section numbers ("1.2" → một chấm hai)."""
    if text.count(",") > 1:
        return ", ".join(numeral_to_words(part) for part in text.split(","))
    if "," in text or _THOUSANDS_RE.fullmatch(text):
        return decimal_to_words(text)
    if "." in text:
        return " chấm ".join(integer_string_to_words(part) for part in text.split(".") if part)
    return integer_string_to_words(text)


def ordinal_to_words(n: int) -> str:
    """The word after "thứ": 1 → nhất, 4 → tư, otherwise the cardinal (thứ hai, thứ mười bốn)."""
    return {1: "nhất", 4: "tư"}.get(n, number_to_words(n))


def month_to_words(month: int) -> str:
    """The word after "tháng": April is "tháng tư", the others are cardinals."""
    return "tư" if month == 4 else number_to_words(month)


def roman_to_int(text: str) -> int | None:
    """Value of a well-formed Roman numeral in capitals, or None ("IIII", "VX" and "" are not numerals)."""
    if not text or not _ROMAN_RE.fullmatch(text):
        return None
    total = 0
    for index, char in enumerate(text):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[text[index + 1]] if index + 1 < len(text) else 0
        total += -value if value < following else value
    return total


def date_to_words(day: int | None, month: int, year: int | None) -> str:
    """A date without the leading "ngày": (3, 3, 2023) → ba tháng ba năm hai nghìn không trăm hai mươi ba."""
    parts = [number_to_words(day)] if day is not None else []
    parts.append(f"tháng {month_to_words(month)}")
    if year is not None:
        parts.append(f"năm {number_to_words(year)}")
    return " ".join(parts)


def is_valid_date(day: int, month: int) -> bool:
    """True when day/month could be a calendar date (29 February allowed: the year may be unknown)."""
    days = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return 1 <= month <= 12 and 1 <= day <= days[month - 1]


def time_to_words(hour: int, minute: int) -> str:
    """A clock time: (7, 30) → bảy giờ ba mươi phút, (17, 0) → mười bảy giờ."""
    text = f"{number_to_words(hour)} giờ"
    return f"{text} {number_to_words(minute)} phút" if minute else text


def phone_to_words(text: str) -> str:
    """Read a telephone number digit by digit, a comma between written groups: 0912 345 678."""
    groups = [g for g in re.split(r"[\s.\-]+", text.strip()) if g]
    if len(groups) == 1:
        digits = groups[0].lstrip("+")
        # Unseparated mobile/landline numbers are grouped the way people dictate them (4-3-3, 4-4-3).
        if len(digits) == 10:
            groups = [digits[:4], digits[4:7], digits[7:]]
        elif len(digits) == 11:
            groups = [digits[:4], digits[4:8], digits[8:]]
        if text.strip().startswith("+"):
            groups[0] = "+" + groups[0]
    spoken = []
    for group in groups:
        prefix = "cộng " if group.startswith("+") else ""
        spoken.append(prefix + digits_to_words(group))
    return ", ".join(spoken)
