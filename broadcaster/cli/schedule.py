"""`broadcaster schedule`: import station files, queue bulletins into sessions, see the plan."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from broadcaster import labels, planning
from broadcaster.cli.common import (
    State,
    actor_option,
    json_option,
    parse_date,
    pass_state,
    print_json,
    print_table,
    shorten,
)
from broadcaster.domain import Priority, RelayOccurrence
from broadcaster.errors import InputError
from broadcaster.schedules import load_schedule
from broadcaster.services import filling, queue, schedule_views, stations


@click.group()
def schedule() -> None:
    """Lịch phát: nhập tệp lịch, xếp bản tin vào buổi phát, xem kế hoạch."""


@schedule.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@pass_state
def import_(state: State, file: Path) -> None:
    """Kiểm tra và nhập tệp lịch FILE (nhập lại lần nữa không thay đổi gì)."""
    app = state.app
    sf = load_schedule(file)
    with app.tx() as s:
        summary = stations.import_schedule(
            s, sf, actor=app.config.station.code or "import", now=app.clock.now(), speak=app.speak
        )
    if not summary.changed:
        click.echo(f"{file.name}: không có gì thay đổi.")
        return
    parts = [f"thêm {labels.count_phrase(summary.created)}"] if summary.created else []
    parts += [f"cập nhật {labels.count_phrase(summary.updated)}"] if summary.updated else []
    click.echo(f"Đã nhập {file.name}: " + "; ".join(parts) + ".")


def _parse_time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip().replace("h", ":") if "h" in text else text.strip())
    except ValueError as exc:
        raise InputError(f"Giờ không hợp lệ: '{text}'.", "Viết dạng 06:00 hoặc 17:00.") from exc


@schedule.command("queue")
@click.argument("bulletin_id", type=int)
@click.option(
    "--session", "session_at", nargs=2, metavar="NGÀY GIỜ", help="Buổi phát, ví dụ: 2023-03-20 06:00."
)
@click.option("--next", "next_", is_flag=True, help="Buổi phát gần nhất sắp tới.")
@click.option(
    "--priority",
    type=click.Choice([Priority.NORMAL.value, Priority.PRIORITY.value]),
    default=Priority.NORMAL.value,
    show_default=True,
    help=f"Mức ưu tiên: normal = {labels.priority('normal')}; priority = {labels.priority('priority')}.",
)
@actor_option
@pass_state
def queue_(
    state: State,
    bulletin_id: int,
    session_at: tuple[str, str] | None,
    next_: bool,
    priority: str,
    actor: str | None,
) -> None:
    """Xếp bản tin đã duyệt vào một buổi phát."""
    if bool(session_at) == next_:
        raise InputError(
            "Chọn đúng một trong --session NGÀY GIỜ hoặc --next.", "Ví dụ: --session 2023-03-20 06:00"
        )
    app = state.app
    with app.station_tx(state.station) as (s, row):
        domain = stations.station_domain(s, row)
        day, at = (parse_date(session_at[0]), _parse_time(session_at[1])) if session_at else (None, None)
        occ = queue.resolve_occurrence(domain, app.clock.now(), day, at)
        airing = queue.queue(
            s,
            row,
            domain,
            occ,
            bulletin_id,
            actor=actor,
            now=app.clock.now(),
            lengths=app.lengths(s, row),
            priority=Priority(priority),
        )
        local = occ.start.astimezone(ZoneInfo(domain.timezone))
        click.echo(
            f"Đã xếp bản tin {bulletin_id} vào {labels.session_name(occ.session_code, occ.name)} "
            f"{local:%d/%m/%Y %H:%M} (lượt số {airing.id})."
        )


@schedule.command("unqueue")
@click.argument("airing_id", type=int)
@actor_option
@pass_state
def unqueue(state: State, airing_id: int, actor: str | None) -> None:
    """Rút một lượt phát khỏi buổi phát."""
    with state.app.tx() as s:
        queue.unqueue(s, airing_id, actor=actor, now=state.app.clock.now())
    click.echo(f"Đã rút lượt phát {airing_id}.")


@schedule.command("plan")
@click.option("--from", "from_", required=True, metavar="NGÀY", help="Từ ngày (giờ địa phương).")
@click.option("--to", "to", required=True, metavar="NGÀY", help="Đến ngày (bao gồm).")
@json_option
@pass_state
def plan(state: State, from_: str, to: str, as_json: bool) -> None:
    """Các buổi phát và lượt phát đã xếp trong khoảng ngày."""
    start, end = parse_date(from_), parse_date(to)
    planning.check_day_order(start, end, "Đổi lại --from và --to.")
    if (end - start).days > 366:
        raise InputError("Khoảng ngày quá dài.", "Xem tối đa một năm mỗi lần.")
    app = state.app
    with app.station_tx(state.station) as (s, row):
        domain = stations.station_domain(s, row)
        # the same reading of the range as the console's week view (manual airings come as their own rows)
        slots = schedule_views.sessions_between(s, row, domain, start, end, duration_of=app.duration_of(s))
        titles = stations.campaign_titles(s, row.id)
    zone = ZoneInfo(domain.timezone)
    rows: list[dict[str, Any]] = [
        {
            "start": slot.start.astimezone(zone),
            "session": slot.session_code,
            "name": slot.name,
            "max_minutes": slot.max_s / 60 if slot.max_s is not None else None,
            "items": [_item(i) for i in slot.items],
            "relay": _relay(slot.relay, zone),
        }
        for slot in slots
    ]
    if as_json:
        print_json({"station": domain.code, "timezone": domain.timezone, "sessions": rows})
        return
    click.echo(f"Kế hoạch phát của {domain.name} ({domain.timezone}), {start:%d/%m/%Y} – {end:%d/%m/%Y}:")
    table = []
    for r in rows:
        start_cell, session_name = _when(r["start"]), labels.session_name(r["session"], r["name"])
        relay = r["relay"]
        relay_row = None
        if relay is not None:
            length = planning.mmss(relay["minutes"] * 60)
            relay_row = (
                _when(relay["start"]),
                session_name,
                "Tiếp sóng",
                "",
                "",
                "",
                length,
                relay["source"][:50],
            )
        if relay_row and relay["start"] <= r["start"]:
            table.append(relay_row)
        if not r["items"]:
            table.append((start_cell, session_name, "", "", "", "", "", "(trống)"))
        for i in r["items"]:
            table.append(
                (
                    start_cell,
                    session_name,
                    shorten(titles.get(i["campaign"], i["campaign"])),
                    i["bulletin_id"],
                    i["revision"],
                    labels.priority(i["priority"]),
                    planning.mmss(i["duration_s"] or 0.0),
                    i["title"][:50],
                )
            )
        if relay_row and relay["start"] > r["start"]:
            table.append(relay_row)
    print_table(["Giờ", "Buổi", "Chiến dịch", "Bản tin", "Bản", "Ưu tiên", "Thời lượng", "Tiêu đề"], table)


def _relay(relay: RelayOccurrence | None, zone: ZoneInfo) -> dict[str, Any] | None:
    """A session's relay as the plan lists it (local start, minutes, source)."""
    if relay is None:
        return None
    minutes = relay.length.total_seconds() / 60
    return {"start": relay.start.astimezone(zone), "minutes": minutes, "source": relay.source}


def _when(start: datetime) -> str:
    """A session's local start as a table cell: "T2 20/03 06:00"."""
    return f"{labels.weekday_short(start.date())} {start:%d/%m %H:%M}"


def _item(i: queue.PlannedItem) -> dict[str, Any]:
    return {
        "airing_id": i.airing_id,
        "position": i.position,
        "bulletin_id": i.bulletin_id,
        "title": i.title,
        "campaign": i.campaign_code,
        "revision": i.revision_number,
        "priority": i.priority.value,
        "queued_by": i.queued_by,
        "duration_s": i.duration_s,
    }


@schedule.command("move")
@click.argument("airing_id", type=int)
@click.option("--session", "session_at", nargs=2, required=True, metavar="NGÀY GIỜ", help="Buổi phát đích.")
@click.option("--position", type=int, default=None, help="Vị trí trong buổi (1 = phát đầu tiên).")
@actor_option
@pass_state
def move(
    state: State, airing_id: int, session_at: tuple[str, str], position: int | None, actor: str | None
) -> None:
    """Chuyển một lượt phát sang buổi khác hoặc đổi vị trí trong buổi."""
    app = state.app
    with app.station_tx(state.station) as (s, row):
        domain = stations.station_domain(s, row)
        day, at = parse_date(session_at[0]), _parse_time(session_at[1])
        occ = queue.resolve_occurrence(domain, app.clock.now(), day, at)
        airing = queue.move(
            s,
            row,
            domain,
            airing_id,
            occ,
            position=position,
            actor=actor,
            now=app.clock.now(),
            lengths=app.lengths(s, row),
        )
        local = occ.start.astimezone(ZoneInfo(domain.timezone))
        click.echo(
            f"Đã chuyển lượt phát {airing_id} sang {labels.session_name(occ.session_code, occ.name)} "
            f"{local:%d/%m/%Y %H:%M}, "
            f"vị trí {airing.position + 1}."
        )


@schedule.command("show")
@click.option("--day", "day_", required=True, metavar="NGÀY", help="Ngày cần xem (giờ địa phương).")
@json_option
@pass_state
def show(state: State, day_: str, as_json: bool) -> None:
    """Các buổi phát trong ngày: tin theo thứ tự, thời lượng từng tin, tổng so với tối đa."""
    day = parse_date(day_)
    app = state.app
    with app.station_tx(state.station) as (s, row):
        domain = stations.station_domain(s, row)
        lengths = app.lengths(s, row)  # the same reading of a day as `plan` and the console's week
        views = schedule_views.sessions_between(
            s, row, domain, day, day, duration_of=lengths.duration_of, shape=lengths.shape
        )
        titles = stations.campaign_titles(s, row.id)
    zone = ZoneInfo(domain.timezone)
    if as_json:
        print_json(
            {
                "station": domain.code,
                "day": day,
                "sessions": [
                    {
                        "start": v.start.astimezone(zone),
                        "session": v.session_code,
                        "name": v.name,
                        "max_s": v.max_s,
                        "total_s": v.total_s,
                        "over_s": v.over_s,
                        "items": [_item(i) for i in v.items],
                    }
                    for v in views
                ],
            }
        )
        return
    click.echo(f"{domain.name}, {labels.weekday(day)} ngày {day:%d/%m/%Y} ({domain.timezone}):")
    if not views:
        click.echo("Không có buổi phát nào.")
    for v in views:
        limit = planning.mmss(v.max_s) if v.max_s is not None else "--"
        over = f", VƯỢT {planning.mmss(v.over_s)}" if v.over_s > 0 else ""
        click.echo(
            f"\n{v.start.astimezone(zone):%H:%M} {labels.session_name(v.session_code, v.name)} — "
            f"chương trình {planning.mmss(v.total_s)} / tối đa {limit}{over}"
        )
        if not v.items:
            click.echo("  (trống)")
            continue
        print_table(
            ["Vị trí", "Lượt", "Bản tin", "Chiến dịch", "Ưu tiên", "Thời lượng", "Tiêu đề"],
            [
                (
                    n,
                    i.airing_id,
                    i.bulletin_id,
                    shorten(titles.get(i.campaign_code, i.campaign_code)),
                    labels.label(i.priority),
                    planning.mmss(i.duration_s or 0.0),
                    i.title[:50],
                )
                for n, i in enumerate(v.items, start=1)
            ],
        )


@schedule.command("fill")
@click.option("--from", "from_", required=True, metavar="NGÀY", help="Từ ngày (giờ địa phương).")
@click.option("--to", "to", required=True, metavar="NGÀY", help="Đến ngày (bao gồm).")
@click.option("--apply", "apply_", is_flag=True, help="Xếp luôn các đề xuất vào hàng đợi.")
@json_option
@actor_option
@pass_state
def fill_(state: State, from_: str, to: str, apply_: bool, as_json: bool, actor: str | None) -> None:
    """Đề xuất (và với --apply thì xếp) bản tin vào chỗ trống để các chiến dịch đạt chỉ tiêu."""
    start, end = parse_date(from_), parse_date(to)
    app = state.app
    with app.station_tx(state.station) as (s, row):
        outcome = filling.fill_range(
            s,
            row,
            start,
            end,
            actor=actor,
            now=app.clock.now(),
            lengths=app.lengths(s, row),
            apply=apply_,
        )
        titles = stations.campaign_titles(s, row.id)
    zone = ZoneInfo(outcome.station.timezone)
    proposals: list[dict[str, Any]] = [
        {
            "start": p.occurrence.start.astimezone(zone),
            "session": p.occurrence.session_code,
            "session_name": labels.session_name(p.occurrence.session_code, p.occurrence.name),
            "bulletin_id": p.candidate.bulletin_id,
            "campaign": p.candidate.campaign_code,
            "duration_s": p.candidate.duration_s,
            "reason": p.reason,
        }
        for p in outcome.result.proposals
    ]
    shortfalls = [
        {
            "campaign": f.campaign_code,
            "kind": f.kind.value,
            "period": f.period_label,
            "needed": f.needed,
            "planned": f.planned,
            "missing": f.missing,
            "message": f.message(),
        }
        for f in outcome.result.shortfalls
    ]
    if as_json:
        print_json(
            {"applied": apply_, "queued": outcome.queued, "proposals": proposals, "shortfalls": shortfalls}
        )
        return
    verb = "Đã xếp" if apply_ else "Đề xuất"
    click.echo(f"{verb} {len(proposals)} lượt phát, {start:%d/%m/%Y} – {end:%d/%m/%Y}:")
    if proposals:
        print_table(
            ["Giờ", "Buổi", "Chiến dịch", "Bản tin", "Thời lượng", "Lý do"],
            [
                (
                    _when(p["start"]),
                    p["session_name"],
                    shorten(titles.get(p["campaign"], p["campaign"])),
                    p["bulletin_id"],
                    planning.mmss(p["duration_s"]),
                    p["reason"],
                )
                for p in proposals
            ],
        )
    if shortfalls:
        click.echo("\nKhông đạt chỉ tiêu:")
        for f in shortfalls:
            click.echo(f"  - {f['message']}")
    else:
        click.echo("Mọi chiến dịch đều đạt chỉ tiêu trong khoảng này.")
    if proposals and not apply_:
        click.echo("Chạy lại với --apply để xếp các đề xuất này vào hàng đợi.")


COMMANDS = [schedule]
