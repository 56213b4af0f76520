"""Pure as-run: one entry per item by what played: completed, cut mid-item or before it, failed, missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broadcaster.domain import EMERGENCY_SESSION, MANUAL_SESSION, AsRunEntry, Outcome, Priority, Trigger
from broadcaster.playout.asrun import (
    ItemSpan,
    Played,
    item_entries,
    missed_entries,
    session_trigger,
    to_resume,
    unfinished,
)

PLANNED = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)


def item(airing_id: int, *spans: tuple[float, float]) -> ItemSpan:
    return ItemSpan(
        spans=spans,
        airing_id=airing_id,
        bulletin_id=airing_id * 10,
        revision_id=airing_id * 100,
        revision_number=1,
        campaign_code="mai-dam-2023",
        title=f"Tin {airing_id}",
        sha256="ab" * 32,
        priority=Priority.NORMAL,
        queued_by="hung",
        approved_by="khoi",
    )


# ident 0–4 s, item 1 at 5–15 s, item 2 read twice at 16–20 s and 21–25 s, closing after.
ITEMS = [item(1, (5.0, 15.0)), item(2, (16.0, 20.0), (21.0, 25.0))]


def played(seconds: float, *, completed: bool = False, error: str | None = None) -> Played:
    started = PLANNED + timedelta(milliseconds=12)
    return Played(started, started + timedelta(seconds=seconds), seconds, completed, error)


def entries(p: Played) -> list[AsRunEntry]:
    return item_entries(
        ITEMS,
        p,
        planned_start=PLANNED,
        trigger=Trigger.SCHEDULE,
        session_code="sang",
        player="file",
        note="n",
    )


def test_a_completed_programme_logs_every_item_completed_at_its_offset() -> None:
    first, second = entries(played(30.0, completed=True))
    assert (first.outcome, second.outcome) == (Outcome.COMPLETED, Outcome.COMPLETED)
    assert (first.played_ms, first.clip_ms) == (10_000, 10_000)
    assert (second.played_ms, second.clip_ms) == (8_000, 8_000)
    assert first.planned_start == PLANNED + timedelta(seconds=5)
    assert first.actual_start == PLANNED + timedelta(seconds=5, milliseconds=12)
    assert second.actual_end == PLANNED + timedelta(seconds=25, milliseconds=12)
    assert first.note == "n" and first.trigger is Trigger.SCHEDULE
    assert (first.start_error_ms, second.start_error_ms) == (12, 12)  # the programme started 12 ms late


def test_a_cut_mid_item_is_interrupted_and_the_items_after_it_skipped() -> None:
    first, second = entries(played(9.0))
    assert first.outcome is Outcome.INTERRUPTED and first.played_ms == 4_000
    assert first.actual_end == PLANNED + timedelta(seconds=9, milliseconds=12)
    assert second.outcome is Outcome.SKIPPED and second.played_ms == 0 and second.actual_start is None
    assert unfinished([first, second]) == [1, 2]


def test_a_cut_in_the_second_reading_counts_what_was_heard() -> None:
    first, second = entries(played(23.0))
    assert first.outcome is Outcome.COMPLETED
    assert second.outcome is Outcome.INTERRUPTED and second.played_ms == 6_000
    assert unfinished([first, second]) == [2]


def test_items_never_heard_have_no_start_error() -> None:
    assert [e.start_error_ms for e in entries(played(3.0))] == [None, None]


def test_a_cut_before_any_item_skips_them_all() -> None:
    assert [e.outcome for e in entries(played(3.0))] == [Outcome.SKIPPED, Outcome.SKIPPED]


def test_a_cut_in_the_closing_words_leaves_the_items_completed() -> None:
    assert [e.outcome for e in entries(played(26.0))] == [Outcome.COMPLETED, Outcome.COMPLETED]


def test_a_player_failure_marks_the_items_failed_with_its_message() -> None:
    first, second = entries(played(7.0, error="pacat thoát bất thường"))
    assert (first.outcome, second.outcome) == (Outcome.FAILED, Outcome.FAILED)
    assert first.played_ms == 2_000 and second.played_ms == 0
    assert first.note == "pacat thoát bất thường"


def test_missed_entries_carry_the_reason_and_the_trigger() -> None:
    rows = missed_entries(
        ITEMS,
        planned_start=PLANNED,
        session_code=EMERGENCY_SESSION,
        reason="trạm phát không chạy",
        trigger=Trigger.EMERGENCY,
    )
    assert [r.outcome for r in rows] == [Outcome.MISSED, Outcome.MISSED]
    assert rows[1].planned_start == PLANNED + timedelta(seconds=16)
    assert all(r.played_ms == 0 and r.actual_start is None and r.trigger is Trigger.EMERGENCY for r in rows)


def test_the_trigger_follows_the_session_code_and_priority() -> None:
    assert session_trigger("sang", Priority.NORMAL) is Trigger.SCHEDULE
    assert session_trigger("sang", Priority.PRIORITY) is Trigger.SCHEDULE
    assert session_trigger(MANUAL_SESSION, Priority.PRIORITY) is Trigger.MANUAL
    assert session_trigger(EMERGENCY_SESSION, Priority.EMERGENCY) is Trigger.EMERGENCY
    assert session_trigger("sang", Priority.EMERGENCY) is Trigger.EMERGENCY


def test_the_resume_policy_picks_what_re_airs_after_an_emergency() -> None:
    cut = entries(played(23.0))  # item 1 completed, item 2 cut in its second reading
    assert to_resume(cut, "resume") == [2]
    assert to_resume(cut, "restart") == [1, 2]
    assert to_resume(cut, "skip") == []


def test_an_item_starting_just_after_the_last_heartbeat_of_a_killed_daemon_is_interrupted_not_skipped() -> (
    None
):
    # Killed 0.5 s before item 2: its player's buffers may have let the start of item 2 out.
    cut = played(15.5)
    plain = entries(cut)
    first, second = item_entries(
        ITEMS,
        cut,
        planned_start=PLANNED,
        trigger=Trigger.SCHEDULE,
        session_code="sang",
        player="pacat",
        note="n",
        uncertain_s=1.5,
    )
    assert plain[1].outcome is Outcome.SKIPPED
    assert first.outcome is Outcome.COMPLETED
    assert second.outcome is Outcome.INTERRUPTED and second.played_ms == 0 and second.actual_start is None


def test_an_item_starting_after_the_uncertain_window_is_still_skipped() -> None:
    _, second = item_entries(
        ITEMS,
        played(12.0),
        planned_start=PLANNED,
        trigger=Trigger.SCHEDULE,
        session_code="sang",
        player="pacat",
        note="n",
        uncertain_s=1.5,
    )
    assert second.outcome is Outcome.SKIPPED
