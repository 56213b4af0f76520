"""The one place of Vietnamese labels: every value a person reads has one, and the phrases read right."""

from __future__ import annotations

import ast
import enum
import unicodedata
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest

from broadcaster import domain, labels
from broadcaster.domain import BulletinStatus, Outcome, Priority, Role, Trigger
from broadcaster.reports.periods import PeriodKind
from broadcaster.speech.lexicon import default_lexicon
from broadcaster.speech.normalize import Normalizer

DOMAIN_ENUMS = sorted(
    (
        value
        for value in vars(domain).values()
        if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == domain.__name__
    ),
    key=lambda e: e.__name__,
)


def assert_readable(text: str, code: str) -> None:
    """A label is Vietnamese text a person reads: not empty, NFC, not the code itself."""
    assert text.strip() and text == text.strip(), (code, text)
    assert unicodedata.is_normalized("NFC", text), (code, text)
    assert text.casefold() != code.casefold(), (code, text)


def test_the_domain_has_the_enums_we_label() -> None:
    assert {e.__name__ for e in DOMAIN_ENUMS} >= {"Outcome", "Priority", "Trigger", "BulletinStatus", "Role"}


@pytest.mark.parametrize("kind", DOMAIN_ENUMS, ids=lambda e: e.__name__)
def test_every_member_of_every_domain_enum_has_a_label(kind: type[enum.StrEnum]) -> None:
    assert kind in labels.ENUM_LABELS, f"{kind.__name__} has no table in broadcaster/labels.py"
    table = labels.ENUM_LABELS[kind]
    texts = [labels.label(member) for member in kind]
    for member, text in zip(kind, texts, strict=True):
        assert_readable(text, member.value)
    assert len(set(texts)) == len(texts), f"two {kind.__name__} values read the same: {texts}"
    assert set(table) >= {m.value for m in kind}


def test_report_periods_have_labels_too() -> None:
    for kind in PeriodKind:
        assert_readable(labels.period_kind(kind), kind.value)
    assert labels.period_kind(PeriodKind.QUARTER) == "quý"


def test_labels_of_the_values_people_meet_most() -> None:
    assert labels.label(Outcome.COMPLETED) == "đã phát xong"
    assert labels.label(Outcome.MISSED, capital=True) == "Bị lỡ"
    assert [labels.label(p) for p in Priority] == ["thông thường", "ưu tiên", "khẩn cấp"]  # Thông tư 39
    assert labels.label(Trigger.SCHEDULE) == "theo lịch"
    assert labels.label(BulletinStatus.SUBMITTED) == "chờ duyệt"
    assert labels.label(Role.LEADER) == "lãnh đạo duyệt tin"
    assert labels.role("inspector").startswith("kiểm tra viên")  # labelled before the role exists


def test_codes_read_back_from_the_store_find_the_same_labels() -> None:
    assert labels.outcome("interrupted") == labels.label(Outcome.INTERRUPTED)
    assert labels.priority("emergency") == labels.label(Priority.EMERGENCY)
    assert labels.trigger("manual") == labels.label(Trigger.MANUAL)
    assert labels.bulletin_status("retired") == labels.label(BulletinStatus.RETIRED)
    assert labels.approval("pending") == "chưa duyệt"
    assert labels.outcome("teleported") == "teleported"  # an unknown code shows as is, never fails


def test_a_trigger_and_a_priority_with_the_same_code_are_told_apart_by_type() -> None:
    assert Trigger.EMERGENCY == Priority.EMERGENCY  # both are the string "emergency"
    assert labels.label(Trigger.EMERGENCY) == labels.label(Priority.EMERGENCY) == "khẩn cấp"
    assert labels.label(Trigger.MANUAL) != labels.label(Priority.PRIORITY)


def test_label_refuses_an_enum_it_does_not_know() -> None:
    class Colour(enum.StrEnum):
        RED = "red"

    with pytest.raises(TypeError, match="Colour"):
        labels.label(Colour.RED)


@pytest.mark.parametrize(
    "table",
    [
        labels.ENTITIES,
        labels.UNITS,
        labels.APPROVALS,
        labels.SPECIAL_SESSIONS,
        labels.CHAIN_PROBLEMS,
        labels.REWRITE_RULES,
        labels.PLAYERS,
        labels.LOG_LEVELS,
    ],
)
def test_every_string_keyed_table_holds_readable_labels(table: Mapping[str, str]) -> None:
    for code, text in table.items():
        if code not in ("ffplay",):  # a program's own name is its label
            assert_readable(text, code)


def test_count_phrases_read_as_vietnamese_in_a_fixed_order() -> None:
    counts = {"user": 3, "bulletin": 12, "station": 1, "session": 2, "campaign": 4, "exception": 3}
    assert labels.count_phrase(counts) == (
        "1 đài, 2 buổi phát, 3 ngoại lệ, 4 chiến dịch, 12 bản tin, 3 người dùng"
    )
    assert labels.count_phrase({"campaign": 4}) == "4 chiến dịch"
    assert labels.count_phrase({}) == ""


def test_amounts_units_and_weekdays() -> None:
    assert labels.amount(12, "minute") == "12 phút"
    assert labels.amount(2.5, "second") == "2,5 giây"
    assert labels.amount(3.0, "airing") == "3 lượt"
    monday = date(2023, 3, 20)
    assert [labels.weekday_short(date(2023, 3, 20 + n)) for n in range(7)] == [
        "T2",
        "T3",
        "T4",
        "T5",
        "T6",
        "T7",
        "CN",
    ]
    assert labels.weekday(monday) == "thứ Hai"


def test_period_names() -> None:
    assert labels.week_name(date(2023, 1, 1)) == "tuần 52/2022"  # ISO weeks
    assert labels.month_name(date(2023, 3, 16)) == "tháng 03/2023"
    assert labels.period_code_name("2023-W11") == "tuần 11/2023"
    assert labels.period_code_name("2023-03") == "tháng 03/2023"
    assert labels.period_code_name("khác") == "khác"


def test_special_sessions_and_session_names() -> None:
    assert labels.session_name("sang", "Buổi sáng") == "Buổi sáng"
    assert labels.session_name("emergency") == "Tin khẩn cấp"
    assert labels.session_name("manual") == "Phát ngay"
    assert labels.session_name("ngay-26-6") == "ngay-26-6"


def test_every_rule_the_normaliser_names_has_a_label() -> None:
    text = (
        "I. MỤC ĐÍCH, YÊU CẦU\n"
        "Thực hiện Kế hoạch số 61/KH-UBND ngày 03/03/2023, tháng 3/2023, tối 20/3 lúc 7h30 và 17:00.\n"
        "Giai đoạn 2021-2025, đạt 15%, 2,5 điểm và 2,5 km, 15/40 hộ, 1.000 người. Gọi 0220.3821.113.\n"
        "Quý II, lần thứ 2. UBND, MTTQ và VH-XH cùng KIỂM TRA."
    )
    rules = {r.rule for r in Normalizer(default_lexicon()).explain(text)}
    assert len(rules) >= 14, rules
    assert rules <= set(labels.REWRITE_RULES), rules - set(labels.REWRITE_RULES)


def test_capitalise_keeps_the_rest_of_the_text() -> None:
    assert labels.capitalise("đã phát xong") == "Đã phát xong"
    assert labels.capitalise("") == ""


def test_labels_sit_just_below_the_clock_in_the_layers() -> None:
    tree = ast.parse(Path(labels.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    ours = {name for name in imported if name and name.split(".")[0] == "broadcaster"}
    assert ours <= {"broadcaster.domain", "broadcaster.errors"}, ours
