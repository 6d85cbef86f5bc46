"""Many communities in one store on the command line: ``python -m office community add`` and
``python -m office community list`` (bank.district: one PostgreSQL schema per community).

Every other command reaches one community of a district store with ``--db URL --community CODE``.
"""

from __future__ import annotations

from pathlib import Path

import click

from bank import db, district
from bank.errors import InvalidInput

from .cli import STORE, _echo_json, _keys, key_options, main, plain_errors


def _district_url(value) -> str:
    if not db.is_url(value):
        raise InvalidInput("多个社区需要区级数据库:--db postgresql://…(SQLite 文件只有一个社区)。",
                           "many communities need a district store: --db postgresql://... (a SQLite file holds one)")
    return value


@main.group("community")
def community_group():
    """The communities of a district store (one PostgreSQL database, one schema per community)."""


@community_group.command("add")
@click.option("--db", "db_url", required=True, type=STORE,
              help="The district store (postgresql://...); an empty database becomes one.")
@click.option("--code", required=True, help="The community code printed in its cards: 2 to 8 capital letters, e.g. LH.")
@click.option("--name", required=True, help="The community's name, e.g. 龙海社区.")
@click.option("--compounds", "compounds_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="A UTF-8 text file, one compound a line: NAME,BUILDINGS[,SERVICE POINT].")
@click.option("--compound", "compound_args", multiple=True, metavar="NAME,BUILDINGS[,SERVICE POINT]",
              help="A compound (repeat for each); instead of --compounds.")
@click.option("--app-role", default=None, help="The PostgreSQL role the office runs as (gets its rights here).")
@key_options
@plain_errors
def community_add_cmd(db_url, code: str, name: str, compounds_file: Path | None, compound_args: tuple[str, ...],
                      app_role: str | None, key_dir: Path | None, ask_passphrase: bool):
    """Found a community in a district store: its schema, compounds and service points, issuing key."""
    url = _district_url(db_url)
    if (compounds_file is None) == (not compound_args):
        raise click.UsageError("请用 --compounds 文件或 --compound 列出小区(二选一)"
                               " (give the compounds with --compounds FILE or --compound, one of the two).")
    compounds = (district.read_compounds(compounds_file) if compounds_file is not None
                 else [district.parse_compound(c, "--compound") for c in compound_args])
    district.check_new(code, name, compounds)     # before an empty database becomes a district store
    keys = _keys(url, key_dir, ask_passphrase, new=True)
    if not district.has_directory(url):
        district.create(url, app_role=app_role)
    entry = district.add_community(url, code=code, name=name, compounds=compounds, keys=keys, app_role=app_role)
    click.echo(f"已建立社区 {entry.code} {entry.name}(小区 {len(compounds)} 个,发卡密钥在 {keys.directory})。"
               f" (community {entry.code} founded with {len(compounds)} compounds; "
               f"use --db URL --community {entry.code} with the other commands)")


@community_group.command("list")
@click.option("--db", "db_url", required=True, type=STORE, help="The district store (postgresql://...).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of {code, name}.")
@plain_errors
def community_list_cmd(db_url, as_json: bool):
    """Every community of a district store: code and name."""
    entries = district.communities(_district_url(db_url))
    if as_json:
        _echo_json([{"code": e.code, "name": e.name} for e in entries])
        return
    if not entries:
        click.echo("区级数据库中还没有社区 (no communities yet): python -m office community add ...")
        return
    click.echo("代码\t名称")
    for e in entries:
        click.echo(f"{e.code}\t{e.name}")


@main.command("district-report")
@click.option("--db", "db_url", required=True, type=STORE, help="The district store (postgresql://...).")
@click.option("--month", required=True, help="The month, e.g. 2026-11 (Beijing time).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PDF.")
@plain_errors
def district_report_cmd(db_url, month: str, out: Path):
    """The monthly district report (PDF): every community's figures for a month, the totals line."""
    from bank import clock, district_figures, periods

    from .district import report
    url = _district_url(db_url)
    period = periods.month(month)
    now = clock.now_utc()
    if period.first_day > clock.local_date(now):
        raise InvalidInput(f"{period.label}还没有到,没有数据。", f"{period.key} is in the future")
    if not out.parent.is_dir():
        raise InvalidInput(f"目录 {out.parent} 不存在。", f"no directory {out.parent}")
    rows = district_figures.table(url, period, now=now)
    data = report.pdf(rows, period, now=now)
    out.write_bytes(data)
    click.echo(f"已写出 {period.label}区级月度报告({len(rows)} 个社区):{out} (district report written)")
