"""Vietnamese number words: the rule table, num2words cross-check, and properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from broadcaster.speech.normalize import Normalizer
from broadcaster.speech.numbers import (
    NUMBER_WORDS,
    decimal_to_words,
    digits_to_words,
    is_valid_date,
    number_to_words,
    numeral_to_words,
    ordinal_to_words,
    phone_to_words,
    roman_to_int,
    time_to_words,
)


def _num2words_fixed(n: int) -> str:
    """num2words(lang="vi") with its two known differences from our rules ("lẻ", "mươi bốn") undone."""
    text = num2words(n, lang="vi").replace("lẻ", "linh")
    return re.sub(r"mươi bốn\b", "mươi tư", text)


def test_below_thousand_agrees_with_num2words() -> None:
    mismatches = [n for n in range(1000) if number_to_words(n) != _num2words_fixed(n)]
    assert mismatches == []


@pytest.mark.parametrize("n", [1, 5, 21, 105, 110, 999])
def test_whole_thousands_and_millions_agree_with_num2words(n: int) -> None:
    assert number_to_words(n * 1000) == _num2words_fixed(n * 1000)
    assert number_to_words(n * 1_000_000) == _num2words_fixed(n * 1_000_000)


@pytest.mark.parametrize(
    ("n", "ours"),
    [
        (2023, "hai nghìn không trăm hai mươi ba"),
        (1010, "một nghìn không trăm mười"),
        (1_000_005, "một triệu không trăm linh năm"),
    ],
)
def test_inner_zero_hundreds_where_num2words_is_wrong(n: int, ours: str) -> None:
    # num2words says "hai nghìn lẻ hai mươi ba": a broadcaster says "không trăm" for an empty hundreds.
    assert "không trăm" not in num2words(n, lang="vi")
    assert number_to_words(n) == ours


def test_large_numbers() -> None:
    assert number_to_words(1_000_000_000) == "một tỷ"
    assert number_to_words(1_000_000_005) == "một tỷ không trăm linh năm"
    assert number_to_words(2_000_021_000) == "hai tỷ không trăm hai mươi mốt nghìn"
    assert number_to_words(5 * 10**12) == "năm nghìn tỷ"
    assert number_to_words(10**18) == "một tỷ tỷ"


def test_negative_is_refused() -> None:
    with pytest.raises(ValueError):
        number_to_words(-1)


@given(st.integers(min_value=0, max_value=10**12))
def test_number_words_are_only_vietnamese_number_words(n: int) -> None:
    words = number_to_words(n).split()
    assert set(words) <= NUMBER_WORDS
    assert "lẻ" not in words
    assert not re.search(r"\d", " ".join(words))
    # "mốt", "tư" and "lăm" only ever follow a tens word.
    for index, word in enumerate(words):
        if word in ("mốt", "tư"):
            assert words[index - 1] == "mươi"
        if word == "lăm":
            assert words[index - 1] in ("mươi", "mười")


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_decimals_say_phay(whole: int, fraction: int) -> None:
    written = f"{whole:,}".replace(",", ".") + f",{fraction}"
    spoken = decimal_to_words(written)
    assert spoken.startswith(number_to_words(whole) + " phẩy ")
    assert not re.search(r"\d", spoken)


_TEXT_ALPHABET = st.sampled_from([*"0123456789 ./-,:%hđ", "UBND", "ngày ", "tháng ", "quý ", "KH", "\n"])


_NORMALIZER = Normalizer()


@given(st.lists(_TEXT_ALPHABET, max_size=40).map("".join))
def test_normalised_text_never_contains_digits(text: str) -> None:
    spoken = _NORMALIZER.normalize(text)
    assert not re.search(r"\d", spoken)
    assert "  " not in spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("2,5", "hai phẩy năm"),
        ("0,05", "không phẩy không năm"),
        ("12,25", "mười hai phẩy hai mươi lăm"),
        ("1.234,5", "một nghìn hai trăm ba mươi tư phẩy năm"),
        ("3,141", "ba phẩy một bốn một"),
    ],
)
def test_decimal_to_words(written: str, spoken: str) -> None:
    assert decimal_to_words(written) == spoken


def test_numeral_forms() -> None:
    assert numeral_to_words("1.500.000") == "một triệu năm trăm nghìn"
    assert numeral_to_words("2.1") == "hai chấm một"
    assert numeral_to_words("1,2,3") == "một, hai, ba"
    assert numeral_to_words("007") == "không không bảy"
    assert numeral_to_words("1234567890123456") == digits_to_words("1234567890123456")


def test_ordinals_roman_dates_times_phones() -> None:
    assert [ordinal_to_words(n) for n in (1, 2, 4, 14)] == ["nhất", "hai", "tư", "mười bốn"]
    assert [roman_to_int(r) for r in ("I", "IV", "IX", "XIII", "XXI", "MCMXC")] == [1, 4, 9, 13, 21, 1990]
    assert [roman_to_int(r) for r in ("", "IIII", "VX", "ABC")] == [None, None, None, None]
    assert is_valid_date(29, 2) and not is_valid_date(30, 2) and not is_valid_date(1, 13)
    assert time_to_words(0, 0) == "không giờ"
    assert time_to_words(17, 5) == "mười bảy giờ năm phút"
    assert phone_to_words("113") == "một một ba"
    assert phone_to_words("02203821456") == "không hai hai không, ba tám hai một, bốn năm sáu"
