"""`broadcaster log`: verify, list, export and correct the as-run log."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from broadcaster import labels
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
from broadcaster.domain import AsRunRecord, Outcome
from broadcaster.errors import InputError
from broadcaster.planning.calendar import check_day_order, local_midnight
from broadcaster.reports.export import asrun_csv, asrun_dict, asrun_json, format_hms
from broadcaster.services import chain, documents, reporting
from broadcaster.services.stations import campaign_titles


@click.group()
def log() -> None:
    """Nhật ký phát sóng: kiểm tra, xem, xuất ra tệp, đính chính."""


@log.command("verify")
@click.option(
    "--head", "known_head", metavar="MÃ_BĂM", help="Mã băm cuối đã ghi trước đây (phát hiện xóa dòng cuối)."
)
@json_option
@pass_state
def verify(state: State, known_head: str | None, as_json: bool) -> None:
    """Kiểm tra chuỗi băm của nhật ký; mã thoát 0 nếu nguyên vẹn, 1 nếu bị sửa."""
    app = state.app
    with app.station_tx(state.station) as (s, station):
        check = chain.verify_chain(s, station, app.witness, known_head=known_head)
    result, signed = check.result, check.signed
    if as_json:
        problem = result.problem
        print_json(
            {
                "station": station.code,
                "rows": result.rows,
                "ok": result.ok,
                "head_hash": result.head_hash,
                "signed_head": None if signed is None else signed.to_json(),
                "station_key": check.key,
                "problem": None if problem is None else problem.__dict__,
            }
        )
    elif result.ok:
        click.echo(
            f"Nhật ký đài {station.code} nguyên vẹn: {result.rows} dòng; mã băm cuối {result.head_hash}; "
            f"khớp mốc đã ký bằng khóa của đài {check.key}."
        )
    else:
        assert result.problem is not None
        p = result.problem
        click.echo(
            f"Nhật ký đài {station.code} KHÔNG nguyên vẹn: dòng id={p.row_id} "
            f"(số thứ tự {p.seq}) — {labels.chain_problem(p.kind)}: {p.message}."
        )
    if not result.ok:
        sys.exit(1)


@log.command("sign")
@click.option("--reason", required=True, metavar="LÝ_DO", help="Vì sao chấp nhận các dòng chưa ký.")
@actor_option
@pass_state
def sign(state: State, reason: str, actor: str | None) -> None:
    """Lãnh đạo ký mốc mới sau khi đã đối chiếu các dòng cuối chưa có chữ ký của đài."""
    app = state.app
    with app.station_tx(state.station) as (s, station):
        head = chain.sign_head(s, station, app.witness, actor=actor, reason=reason, now=app.clock.now())
    click.echo(f"Đã ký mốc nhật ký đài {station.code}: {head.rows} dòng, mã băm cuối {head.head_hash}.")


def _filters(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        (
            click.option("--from", "from_", metavar="NGÀY", help="Từ ngày (giờ địa phương)."),
            click.option("--to", metavar="NGÀY", help="Đến hết ngày (giờ địa phương)."),
            click.option("--campaign", metavar="MÃ", help="Chỉ một chiến dịch."),
            click.option(
                "--outcome",
                metavar="KẾT_QUẢ",
                help=f"Chỉ một kết quả: {', '.join(o.value for o in Outcome)}.",
            ),
        )
    ):
        func = option(func)
    return func


@dataclass(frozen=True)
class _Log:
    """The station's as-run rows as the log commands print them, with what they print beside them."""

    code: str
    zone: ZoneInfo
    titles: dict[str, str]
    records: list[AsRunRecord]
    corrects: dict[int, int]


def _load(
    state: State,
    from_: str | None,
    to: str | None,
    campaign: str | None,
    outcome: str | None,
    effective: bool,
) -> _Log:
    with state.app.station_tx(state.station) as (s, station):
        titles = campaign_titles(s, station.id)
        _check_filters(sorted(titles), campaign, outcome)
        zone = reporting.station_zone(station)
        first, last = (parse_date(from_) if from_ else None), (parse_date(to) if to else None)
        check_day_order(first, last, "Đổi lại --from và --to.")
        start = local_midnight(first, zone) if first else None
        end = local_midnight(last + timedelta(days=1), zone) if last else None
        records = reporting.load_records(
            s,
            station,
            start=start,
            end=end,
            campaign_codes=[campaign] if campaign else None,
            outcomes=[Outcome(outcome)] if outcome else None,
            effective=effective,
        )
        corrects = reporting.corrections_of(s, station)
        return _Log(station.code, zone, titles, records, corrects)


def _check_filters(campaigns: list[str], campaign: str | None, outcome: str | None) -> None:
    """An unknown filter value is an error naming it and the valid ones (not an empty list, exit 0)."""
    if campaign is not None and campaign not in campaigns:
        raise InputError(
            f"Không có chiến dịch '{campaign}' ở đài này.",
            f"Các chiến dịch hiện có: {', '.join(campaigns) or '(chưa có)'}.",
        )
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        valid = ", ".join(f"{o.value} ({labels.outcome(o.value)})" for o in Outcome)
        raise InputError(f"Không có kết quả '{outcome}'.", f"Chọn một trong: {valid}.")


@log.command("list")
@_filters
@click.option("--effective", is_flag=True, help="Chỉ các dòng đang có hiệu lực (đã áp dụng đính chính).")
@json_option
@pass_state
def list_(
    state: State,
    from_: str | None,
    to: str | None,
    campaign: str | None,
    outcome: str | None,
    effective: bool,
    as_json: bool,
) -> None:
    """Xem nhật ký phát sóng (giờ địa phương của đài)."""
    loaded = _load(state, from_, to, campaign, outcome, effective)
    records, corrects, titles, zone = loaded.records, loaded.corrects, loaded.titles, loaded.zone
    if as_json:
        print_json([{**asrun_dict(r, zone), "corrects_id": corrects.get(r.row_id or 0)} for r in records])
        return
    rows = []
    for r in records:
        anchor = r.actual_start or r.planned_start
        local = anchor.astimezone(zone) if anchor else None
        fix = corrects.get(r.row_id or 0)
        rows.append(
            [
                r.row_id,
                f"{local:%d/%m/%Y}" if local else "",
                f"{local:%H:%M:%S}" if local else "",
                shorten(titles.get(r.campaign_code, r.campaign_code)) if r.campaign_code else "",
                r.title,
                labels.label(r.outcome) + (f" (đính chính dòng {fix})" if fix else ""),
                format_hms(r.played_s),
            ]
        )
    print_table(["Id", "Ngày", "Giờ", "Chiến dịch", "Bản tin", "Kết quả", "Thời lượng"], rows)
    click.echo(f"{len(rows)} dòng; giờ {zone.key}.")


@log.command("export")
@_filters
@click.option("--format", "fmt", type=click.Choice(("csv", "json")), default="csv", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), help="Tệp ra (mặc định: màn hình).")
@click.option("--all", "all_rows", is_flag=True, help="Kể cả các dòng đã bị đính chính.")
@pass_state
def export(
    state: State,
    from_: str | None,
    to: str | None,
    campaign: str | None,
    outcome: str | None,
    fmt: str,
    out: Path | None,
    all_rows: bool,
) -> None:
    """Xuất nhật ký ra CSV (UTF-8 có BOM, mở bằng Excel) hoặc JSON; đính chính đã được áp dụng."""
    loaded = _load(state, from_, to, campaign, outcome, not all_rows)
    records, zone = loaded.records, loaded.zone
    if fmt == "csv":
        data = asrun_csv(records, zone=zone)
    else:
        head = state.app.witness.last(loaded.code)
        signed = None if head is None else head.to_json()
        data = (asrun_json(records, zone=zone, signed_head=signed) + "\n").encode()
    if out is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    documents.write_atomic(out, data)
    click.echo(f"Đã ghi {len(records)} dòng vào {out}")


@log.command("correct")
@click.argument("row_id", type=int)
@click.option("--outcome", required=True, type=click.Choice([o.value for o in Outcome]), help="Kết quả đúng.")
@click.option("--reason", required=True, help="Lý do đính chính (ai xác nhận, căn cứ nào).")
@click.option("--played-s", type=click.FloatRange(min=0), help="Số giây thực phát (mặc định theo kết quả).")
@actor_option
@pass_state
def correct(
    state: State, row_id: int, outcome: str, reason: str, played_s: float | None, actor: str | None
) -> None:
    """Ghi một dòng đính chính cho dòng ROW_ID (người vận hành hoặc lãnh đạo); dòng cũ giữ nguyên."""
    app = state.app
    with app.tx() as s:
        row = reporting.correct(
            s, row_id, Outcome(outcome), reason=reason, actor=actor, now=app.clock.now(), played_s=played_s
        )
        new_id, head = row.id, row.row_hash
    click.echo(f"Đã ghi dòng đính chính id={new_id} cho dòng {row_id}: {labels.outcome(outcome)}.")
    click.echo(f"Mã băm cuối của nhật ký: {head}")


COMMANDS = [log]
