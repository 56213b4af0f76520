"""A session's relay in the schedule file: read and checked (source, length, place), and what it does to
the session: its relay before or after the bulletins, the bulletins' part shortened by the relay."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from test_schedules import one_problem, replace

from broadcaster import planning
from broadcaster.domain import RelayRule
from broadcaster.schedules import parse_schedule

SESSION = 'start = "06:00"\nmax_minutes = 15\n'


def with_relay(relay: str) -> str:
    return replace(SESSION, SESSION + f"relay = {{ {relay} }}\n")


def test_a_relay_is_read_with_its_place_and_filler() -> None:
    text = with_relay('source = "http://vov1.vn/live.mp3", minutes = 10, place = "last", filler = "nhac.ogg"')
    [sang, chieu] = parse_schedule(text, "t.toml").station.sessions
    assert sang.relay == RelayRule("http://vov1.vn/live.mp3", timedelta(minutes=10), "last", "nhac.ogg")
    assert chieu.relay is None
    first = parse_schedule(with_relay('source = "device:fm_line_in", minutes = 15'), "t.toml")
    assert first.station.sessions[0].relay == RelayRule("device:fm_line_in", timedelta(minutes=15), "first")


@pytest.mark.parametrize(
    ("relay", "path", "said"),
    [
        ('source = "vov1.vn/live", minutes = 5', "session[1].relay.source", "nguồn tiếp sóng 'vov1.vn/live'"),
        ('source = "http://vov1.vn/x", minutes = 20', "session[1].relay.minutes", "không vừa buổi phát 15"),
        ('source = "http://vov1.vn/x", minutes = 5, place = "middle"', "session[1].relay.place", "'middle'"),
        ('source = "http://vov1.vn/x"', "session[1].relay.minutes", ""),
        ('source = "http://vov1.vn/x", minutes = 5, volume = 3', "session[1].relay.volume", "khoá lạ"),
    ],
)
def test_a_bad_relay_names_its_key_and_the_fix(relay: str, path: str, said: str) -> None:
    problem = one_problem(with_relay(relay), path)
    assert said in problem


def test_a_relay_shares_its_session_first_or_last() -> None:
    zone_day = date(2023, 6, 5)  # a Monday
    for place, relay_at, bulletins_at in (("first", "23:00", "23:10"), ("last", "23:05", "23:00")):
        text = with_relay(f'source = "http://vov1.vn/x", minutes = 10, place = "{place}"')
        station = parse_schedule(text, "t.toml").station
        [occ] = [o for o in planning.occurrences(station, zone_day, zone_day) if o.session_code == "sang"]
        assert occ.relay is not None
        assert occ.relay.start == datetime.combine(date(2023, 6, 4), time.fromisoformat(relay_at), UTC)
        assert occ.start == datetime.combine(date(2023, 6, 4), time.fromisoformat(bulletins_at), UTC)
        assert occ.max_length == timedelta(minutes=5)  # the relay's 10 minutes count against the 15
        assert planning.find_occurrence(station, zone_day, time(6, 0)) == occ
    [relay] = planning.relay_occurrences(station, date(2023, 6, 10), date(2023, 6, 10))
    assert relay.session_code == "sang" and relay.length == timedelta(minutes=10)


def test_a_relay_outside_the_allowed_hours_is_refused_with_its_session() -> None:
    text = with_relay('source = "http://vov1.vn/x", minutes = 10').replace(
        'start = "06:00"', 'start = "07:25"', 1
    )
    assert "ngoài giờ được phép" in one_problem(text, "session[1].start")
