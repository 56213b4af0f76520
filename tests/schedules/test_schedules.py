"""Tests for schedule files: the real Phú Thứ file, and every validation rule with its file:line:key."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadcaster.domain import ExceptionKind, Role
from broadcaster.errors import BroadcasterError, ScheduleFileError
from broadcaster.schedules import ScheduleFile, ScheduleValidationError, load_schedule, parse_schedule

REAL = Path(__file__).resolve().parents[2] / "schedules" / "phu-thu-2023.toml"

# The agencies section IV of the seed plan assigns work to.
PLAN_AGENCIES = {
    "Công chức VH-XH",
    "Công an phường",
    "Trạm y tế phường",
    "Công chức Tư pháp",
    "Các nhà trường trên địa bàn phường",
    "MTTQ và các đoàn thể",
    "Đài truyền thanh",
}

BASE = """\
[station]
code = "phu-thu"
name = "Đài truyền thanh phường Phú Thứ"
timezone = "Asia/Ho_Chi_Minh"
ident = "Đây là Đài truyền thanh phường Phú Thứ."
allowed_hours = ["05:00-07:30", "16:30-19:00"]

[[session]]
code = "sang"
name = "Buổi sáng"
weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]
start = "06:00"
max_minutes = 15

[[session]]
code = "chieu"
weekdays = ["T2", "T3", "T4", "T5", "T6", "T7"]
start = "17:00"
max_minutes = 15

[[exception]]
date = 2023-06-10
kind = "cancel"
session = "chieu"

[[campaign]]
code = "mai-dam-2023"
title = "Phòng, chống mại dâm năm 2023"
plan_ref = "Kế hoạch số 61/KH-UBND"
period_start = 2023-03-16
period_end = 2023-12-31
agencies = ["Công an phường", "Trạm y tế phường"]

[campaign.target]
min_airings_per_week = 1
max_gap_days = 7

[[user]]
name = "khoi"
full_name = "Vũ Văn Khôi"
role = "leader"

[[user]]
name = "lan"
full_name = "Nguyễn Thị Lan"
role = "officer"

[[bulletin]]
key = "b1"
campaign = "mai-dam-2023"
title = "Tin một"
agency = "Công an phường"
approved_by = "khoi"
text = \"\"\"
Dòng thứ nhất
nối tiếp.

Đoạn hai.
\"\"\"
"""


def line_of(text: str, fragment: str, after: str | None = None) -> int:
    """1-based number of the first line containing `fragment` (after the line containing `after`)."""
    lines = text.splitlines()
    begin = 0 if after is None else next(i for i, line in enumerate(lines) if after in line) + 1
    return next(i + 1 for i, line in enumerate(lines) if i >= begin and fragment in line)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ScheduleValidationError) as caught:
        parse_schedule(text, "t.toml")
    return caught.value.problems


def one_problem(text: str, path: str) -> str:
    """The single problem reported for `path`, failing if there are others."""
    problems = problems_of(text)
    assert len(problems) == 1, problems
    assert f": {path}: " in problems[0], problems
    return problems[0]


def replace(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


# --- the real file ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> ScheduleFile:
    return load_schedule(REAL)


def test_real_station_and_sessions(real: ScheduleFile) -> None:
    station = real.station
    assert (station.code, station.timezone) == ("phu-thu", "Asia/Ho_Chi_Minh")
    assert station.name == "Đài truyền thanh phường Phú Thứ"
    assert real.ward == "Phường Phú Thứ"
    assert station.ident.startswith("Đây là Đài truyền thanh phường Phú Thứ")
    assert [(s.code, s.start, s.max_length) for s in station.sessions] == [
        ("sang", time(6, 0), timedelta(minutes=15)),
        ("chieu", time(17, 0), timedelta(minutes=15)),
    ]
    assert all(s.weekdays == frozenset(range(6)) for s in station.sessions)  # Monday to Saturday
    assert all(station.allows(s.start, s.max_length) for s in station.sessions)
    assert not station.allows(time(3, 15), timedelta(minutes=1))
    kinds = [(e.day, e.kind) for e in station.exceptions]
    assert (date(2023, 6, 10), ExceptionKind.CANCEL) in kinds


def test_real_campaigns(real: ScheduleFile) -> None:
    by_code = {c.code: c for c in real.campaigns}
    assert set(by_code) == {"mai-dam-2023", "ma-tuy-2023", "hiv-aids-2023", "mua-ban-nguoi-2023"}
    main = by_code["mai-dam-2023"]
    assert "Kế hoạch số 61/KH-UBND ngày 03/03/2023 của UBND thị xã Kinh Môn" in main.plan_ref
    assert "16/3/2023" in main.plan_ref
    assert (main.period_start, main.period_end) == (date(2023, 3, 16), date(2023, 12, 31))
    assert main.target.min_airings_per_week == 1
    assert main.target.max_gap_days == 7
    assert main.target.min_minutes_per_month is not None
    assert set(main.integrates) == {"ma-tuy-2023", "hiv-aids-2023", "mua-ban-nguoi-2023"}
    assert set(main.agencies) == PLAN_AGENCIES
    for code in main.integrates:
        assert by_code[code].target.min_airings_per_month is not None


def test_real_users(real: ScheduleFile) -> None:
    roles = {u.role: u for u in real.users}
    assert set(roles) == {Role.OFFICER, Role.LEADER, Role.OPERATOR}
    assert roles[Role.LEADER].full_name == "Vũ Văn Khôi"
    assert roles[Role.LEADER].name == "khoi"
    assert "Phó Chủ tịch" in roles[Role.LEADER].title


def test_real_bulletins(real: ScheduleFile) -> None:
    bulletins = real.bulletins
    assert len(bulletins) >= 10
    assert {b.agency for b in bulletins} <= PLAN_AGENCIES
    assert {"Công an phường", "Trạm y tế phường", "Công chức Tư pháp", "MTTQ và các đoàn thể"} <= {
        b.agency for b in bulletins
    }
    for bulletin in bulletins:
        assert 60 <= len(bulletin.text.split()) <= 180, bulletin.key
    approved = [b for b in bulletins if b.approved_by == "khoi"]
    drafts = [b for b in bulletins if b.approved_by is None]
    assert len(approved) >= 8 and 1 <= len(drafts) <= 2
    assert {b.campaign_code for b in bulletins} == {c.code for c in real.campaigns}
    texts = " ".join(b.text for b in bulletins)
    for needle in ("61/KH-UBND", "03/03/2023", "2021-2025", "20%", "113", "17h00", "“Toàn dân đoàn kết"):
        assert needle in texts, needle


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, tuple | list | frozenset):
        return [s for item in value for s in _strings(item)]
    return []


def test_real_file_is_nfc(real: ScheduleFile) -> None:
    assert unicodedata.is_normalized("NFC", REAL.read_text(encoding="utf-8"))
    strings = _strings(real)
    assert len(strings) > 100
    assert all(unicodedata.is_normalized("NFC", s) for s in strings)


# --- parsing details --------------------------------------------------------------------------------


def test_base_parses_with_both_weekday_spellings_and_tidy_text() -> None:
    parsed = parse_schedule(BASE, "t.toml")
    assert [s.weekdays for s in parsed.station.sessions] == [frozenset(range(6))] * 2
    assert parsed.station.sessions[1].name == "chieu"  # name defaults to the code
    assert parsed.bulletins[0].text == "Dòng thứ nhất nối tiếp.\n\nĐoạn hai."


def test_decomposed_text_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", BASE)
    assert decomposed != BASE
    parsed = parse_schedule(decomposed, "t.toml")
    assert parsed.station.name == "Đài truyền thanh phường Phú Thứ"
    assert parsed.users[0].full_name == "Vũ Văn Khôi"


def test_windows_bom_and_crlf_are_accepted_and_lines_still_right() -> None:
    text = "\ufeff" + BASE.replace("\n", "\r\n")
    assert parse_schedule(text, "t.toml").station.code == "phu-thu"
    problem = one_problem(replace('start = "06:00"', 'start = "6h00"', text), "session[1].start")
    line = line_of(BASE, 'start = "06:00"')
    assert problem.startswith(f"t.toml:{line}: ")


# --- each rule: a failing case naming file, line and key ---------------------------------------------


def test_bad_time_names_file_line_key_and_fix() -> None:
    text = replace('start = "06:00"', 'start = "25:00"')
    problem = one_problem(text, "session[1].start")
    line = line_of(text, '"25:00"')
    fix = 'dùng dạng HH:MM, ví dụ "06:00", "17:30"'
    assert problem == f"t.toml:{line}: session[1].start: giờ không hợp lệ '25:00' — {fix}"


def test_unknown_weekday_suggests_the_right_one() -> None:
    text = replace('weekdays = ["T2",', 'weekdays = ["Monday", "T2",')
    problem = one_problem(text, "session[2].weekdays[1]")
    assert problem.startswith(f"t.toml:{line_of(text, 'Monday')}: ")
    assert "'Monday'" in problem and "'mon'" in problem
    text = replace('weekdays = ["T2",', 'weekdays = ["mon", "T2",')
    assert "bị lặp" in one_problem(text, "session[2].weekdays[2]")


def test_max_minutes_must_be_positive_integer() -> None:
    text = replace("max_minutes = 15", "max_minutes = 0")
    problem = one_problem(text, "session[1].max_minutes")
    assert problem.startswith(f"t.toml:{line_of(text, 'max_minutes = 0')}: ")
    text = replace("max_minutes = 15", 'max_minutes = "15"')
    assert "số nguyên" in one_problem(text, "session[1].max_minutes")


def test_invalid_dates_and_vietnamese_date_hint() -> None:
    text = replace("period_start = 2023-03-16", 'period_start = "16/3/2023"')
    problem = one_problem(text, "campaign[1].period_start")
    assert problem.startswith(f"t.toml:{line_of(text, 'period_start')}: ")
    assert "2023-03-16" in problem
    text = replace("max_minutes = 15", 'max_minutes = 15\nvalid_from = "2023-02-30"')
    assert one_problem(text, "session[1].valid_from").startswith(f"t.toml:{line_of(text, 'valid_from')}: ")


def test_period_start_after_end() -> None:
    text = replace("period_end = 2023-12-31", "period_end = 2023-01-31")
    problem = one_problem(text, "campaign[1].period_end")
    assert problem.startswith(f"t.toml:{line_of(text, 'period_end')}: ")


def test_session_running_past_allowed_hours_is_rejected() -> None:
    text = replace('start = "17:00"', 'start = "18:50"')  # 18:50 + 15 min ends after 19:00
    problem = one_problem(text, "session[2].start")
    assert problem.startswith(f"t.toml:{line_of(text, '18:50')}: ")
    assert "18:50-19:05" in problem and "ngoài giờ được phép" in problem


def test_overlapping_sessions_are_rejected() -> None:
    text = replace('start = "17:00"', 'start = "06:10"').replace('"T2", "T3", "T4"', '"T2"')
    assert "trùng giờ" in one_problem(text, "session[2].start")


def test_bad_allowed_hours() -> None:
    text = replace('"16:30-19:00"', '"19:00-16:30"')
    problem = one_problem(text, "station.allowed_hours[2]")
    assert problem.startswith(f"t.toml:{line_of(text, 'allowed_hours')}: ")


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ('code = "chieu"', 'code = "sang"', "session[2].code"),
        ('key = "b1"', 'key = "b1"\n[[bulletin]]\nkey = "b1"', "bulletin[2].key"),
        ('name = "lan"', 'name = "khoi"', "user[2].name"),
    ],
)
def test_duplicate_codes(old: str, new: str, path: str) -> None:
    problems = problems_of(replace(old, new))
    assert any(f": {path}: " in p and "trùng" in p for p in problems), problems


def test_duplicate_line_points_at_the_second_table() -> None:
    text = replace('code = "chieu"', 'code = "sang"')
    problem = next(p for p in problems_of(text) if ": session[2].code: " in p)
    line = line_of(text, 'code = "sang"', after="max_minutes = 15")
    assert problem.startswith(f"t.toml:{line}: ")
    assert "session[1]" in problem


def test_bulletin_campaign_must_exist() -> None:
    text = replace('campaign = "mai-dam-2023"', 'campaign = "mai-dam-2024"')
    problem = one_problem(text, "bulletin[1].campaign")
    assert problem.startswith(f"t.toml:{line_of(text, 'mai-dam-2024')}: ")
    assert "'mai-dam-2023'" in problem


def test_bulletin_text_must_not_be_empty() -> None:
    start = BASE.index('text = """')
    text = BASE[:start] + 'text = """\n   \n"""\n'
    problem = one_problem(text, "bulletin[1].text")
    assert problem.startswith(f"t.toml:{line_of(text, 'text = ')}: ")


def test_bulletin_agency_must_be_one_the_campaign_names() -> None:
    text = replace('agency = "Công an phường"', 'agency = "Cong an phuong"')
    problem = one_problem(text, "bulletin[1].agency")
    assert "'Công an phường'" in problem


def test_approved_by_must_be_a_leader() -> None:
    text = replace('approved_by = "khoi"', 'approved_by = "lan"')
    problem = one_problem(text, "bulletin[1].approved_by")
    assert problem.startswith(f"t.toml:{line_of(text, 'approved_by')}: ")
    assert "officer" in problem and "bản nháp" in problem
    text = replace('approved_by = "khoi"', 'approved_by = "khoj"')
    assert "'khoi'" in one_problem(text, "bulletin[1].approved_by")


def test_unknown_timezone_suggests_the_nearest() -> None:
    text = replace('"Asia/Ho_Chi_Minh"', '"Asia/Ho_Chi_Min"')
    problem = one_problem(text, "station.timezone")
    assert problem.startswith(f"t.toml:{line_of(text, 'timezone')}: ")
    assert "'Asia/Ho_Chi_Minh'" in problem


def test_target_numbers_must_not_be_negative() -> None:
    text = replace("min_airings_per_week = 1", "min_airings_per_week = -1")
    problem = one_problem(text, "campaign[1].target.min_airings_per_week")
    assert problem.startswith(f"t.toml:{line_of(text, 'min_airings_per_week')}: ")


def test_unknown_integrated_campaign() -> None:
    text = replace("period_end = 2023-12-31", 'period_end = 2023-12-31\nintegrates = ["ma-tuy"]')
    assert "'ma-tuy'" in one_problem(text, "campaign[1].integrates")
    text = replace("period_end = 2023-12-31", 'period_end = 2023-12-31\nintegrates = ["mai-dam-2023"]')
    assert "chính nó" in one_problem(text, "campaign[1].integrates")


def test_exception_rules() -> None:
    sunday = replace("date = 2023-06-10", "date = 2023-06-11")
    assert "11/06/2023" in one_problem(sunday, "exception[1].date")
    unknown = replace('session = "chieu"', 'session = "toi"')
    assert "chieu" in one_problem(unknown, "exception[1].session")
    extra = replace('kind = "cancel"\nsession = "chieu"', 'kind = "extra"\nstart = "20:00"\nmax_minutes = 10')
    assert "ngoài giờ được phép" in one_problem(extra, "exception[1].start")
    clash = replace('kind = "cancel"\nsession = "chieu"', 'kind = "extra"\nstart = "06:10"\nmax_minutes = 10')
    assert "trùng giờ" in one_problem(clash, "exception[1].start")


def test_unknown_key_gets_a_did_you_mean() -> None:
    text = replace('start = "06:00"', 'strat = "06:00"')
    problems = problems_of(text)
    line = line_of(text, "strat")
    assert f"t.toml:{line}: session[1].strat: khoá lạ 'strat' — có phải ý bạn là 'start'?" in problems
    # the missing required key is reported at its table's header line
    header = line_of(text, "[[session]]")
    assert any(p.startswith(f"t.toml:{header}: session[1].start: thiếu khoá") for p in problems), problems


def test_unknown_table_and_wrong_table_shape() -> None:
    text = replace("[[user]]", "[[users]]")
    assert "'user'" in problems_of(text)[0]
    single = replace("[[exception]]", "[exception]")
    assert "[[exception]]" in one_problem(single, "exception")


def test_missing_station_is_reported_once() -> None:
    text = BASE[BASE.index("[[session]]") :]
    assert one_problem(text, "station").startswith("t.toml:1: station: thiếu bảng [station]")


def test_lines_inside_multiline_text_are_not_taken_for_keys() -> None:
    text = replace('approved_by = "khoi"\n', "")
    text = replace("Đoạn hai.", "approved_by = trưởng phòng\n[[session]]\nĐoạn hai.", text)
    text += 'approved_by = "lan"\n'
    problem = one_problem(text, "bulletin[1].approved_by")
    assert problem.startswith(f"t.toml:{len(text.splitlines())}: ")


def test_toml_syntax_error_carries_line_and_column() -> None:
    text = replace('start = "17:00"', "start = 17:00")
    problems = problems_of(text)
    assert problems == [
        f"t.toml:{line_of(text, 'start = 17:00')}: cột 11: còn ký tự thừa sau giá trị — "
        'giờ, chữ phải đặt trong ngoặc kép, ví dụ "06:00"'
    ]


def test_many_problems_reported_together_sorted_by_line() -> None:
    text = replace('"Asia/Ho_Chi_Minh"', '"Mars/Olympus"')
    text = replace('start = "06:00"', 'start = "6:75"', text)
    text = replace("max_gap_days = 7", "max_gap_days = 0", text)
    text = replace('role = "officer"', 'role = "writer"', text)
    with pytest.raises(ScheduleValidationError) as caught:
        parse_schedule(text, "t.toml")
    error = caught.value
    assert [p.split(": ")[1] for p in error.problems] == [
        "station.timezone",
        "session[1].start",
        "campaign[1].target.max_gap_days",
        "user[2].role",
    ]
    lines = [int(p.split(":")[1]) for p in error.problems]
    assert lines == sorted(lines)
    assert error.message.splitlines()[0] == "t.toml: tệp lịch không hợp lệ (4 lỗi), không nhập phần nào"
    assert error.message.splitlines()[1:] == error.problems
    assert error.one_line() == error.problems[0] + " (+3 lỗi khác)"
    assert str(error) == error.one_line()
    assert isinstance(error, ScheduleFileError) and isinstance(error, BroadcasterError)


def test_a_file_with_one_problem_is_rejected_whole(tmp_path: Path) -> None:
    text = replace('role = "officer"', 'role = "writer"')
    path = tmp_path / "phu-thu.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleValidationError) as caught:
        load_schedule(path)
    assert caught.value.problems[0].startswith(f"{path}:{line_of(text, 'writer')}: user[2].role: vai trò lạ")
    assert parse_schedule(BASE, "t.toml").users[1].role is Role.OFFICER


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ScheduleFileError, match=r"không đọc được tệp lịch .*missing\.toml: không có tệp này"):
        load_schedule(tmp_path / "missing.toml")
    with pytest.raises(ScheduleFileError, match="đây là thư mục"):
        load_schedule(tmp_path)
    cp1258 = tmp_path / "ansi.toml"
    cp1258.write_bytes(BASE.replace("Phú Thứ", "Phu Thu").encode() + b"\n# ghi ch\xfa\n")
    with pytest.raises(ScheduleValidationError) as caught:
        load_schedule(cp1258)
    assert caught.value.problems[0].startswith(f"{cp1258}:{len(BASE.splitlines()) + 2}: tệp không phải UTF-8")


VALUES = st.sampled_from(
    [
        *(
            "1",
            "-1",
            "0",
            "10000000000000000000",
            "1.5",
            "nan",
            "inf",
            "true",
            '"x"',
            '""',
            '"25:00"',
            '"T9"',
        ),
        *("[]", "[1]", '["x"]', "[[]]", "{}", "{ a = 1 }", "2023-01-01", "2023-01-01T00:00:00Z", "06:00:00"),
    ]
)
KEY_LINES = [i for i, line in enumerate(BASE.splitlines()) if " = " in line and not line.startswith("text")]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KEY_LINES), VALUES), min_size=1, max_size=4))
def test_any_value_anywhere_parses_or_is_rejected_cleanly(changes: list[tuple[int, str]]) -> None:
    lines = BASE.splitlines()
    for index, value in changes:
        lines[index] = lines[index].split(" = ")[0] + " = " + value
    text = "\n".join(lines) + "\n"
    try:
        parse_schedule(text, "t.toml")
    except ScheduleValidationError as error:
        assert error.problems and all(p.startswith("t.toml:") and " — " in p for p in error.problems)
