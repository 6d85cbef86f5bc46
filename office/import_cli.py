"""``python -m office import``: households and members, merchants with offers and hours, and
opening balances from Excel files (.xlsx), plus the templates to fill in.

A dry run lists every problem row by row and changes nothing; an import with any problem writes
nothing; the same file twice adds nothing the second time (see :mod:`bank.imports`).
"""

from __future__ import annotations

import contextlib
import hashlib
import shlex
import sys
from pathlib import Path

import click

from bank import audit, db, imports, recorders

from . import spreadsheets
from .cli import _check_out, _echo_json, _out_option, _write_out, db_option, plain_errors

CLI_ACTOR = "命令行"


class _Bars:
    """:class:`bank.imports.Progress` as click progress bars on stderr, one per phase."""

    def __init__(self):
        self.bar = None

    def phase(self, label: str, total: int) -> None:
        self.close()
        if total:
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
            self.bar.__enter__()

    def step(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.group("import")
def import_group():
    """Import households, merchants and opening balances from Excel (.xlsx)."""


@import_group.command("template")
@click.argument("kind", type=click.Choice(list(imports.KINDS)))
@_out_option(".xlsx")
@plain_errors
def template_cmd(kind: str, out: Path):
    """Write the template for KIND: Chinese headers, an example row, a sheet explaining each column."""
    _check_out(out, ".xlsx")
    _write_out(out, spreadsheets.template(kind))
    click.echo(f"已生成{imports.KINDS[kind]}导入模板 (template written): {out}")


def print_cards_command(db_path: Path, account_ids: list[int]) -> str:
    return " ".join(["python -m office print-cards --db", shlex.quote(str(db_path)), "--out 新卡.pdf",
                     *map(str, account_ids)])


def _run(kind: str, db_path: Path, file: Path, dry_run: bool, as_json: bool) -> None:
    data = file.read_bytes()
    click.echo(f"读取 (reading) {file} …", err=True)
    book = spreadsheets.read(data, kind)
    digest = hashlib.sha256(data).hexdigest()
    # a dry run opens the store read-only: it cannot write even by mistake
    conn = db.connect(db_path, readonly=dry_run)
    bars = _Bars()
    try:
        with contextlib.nullcontext() if dry_run else db.transaction(conn):
            result = imports.run(conn, book, recorded_by=recorders.COMMAND_LINE, dry_run=dry_run, progress=bars)
            if result.written:
                audit.record(conn, CLI_ACTOR, f"import.{kind}", file.name,
                             {"sha256": digest, "rows": book.rows, **result.plan.counts})
    finally:
        bars.close()
    p = result.plan
    print_cmd = print_cards_command(db_path, result.new_accounts) if result.new_accounts else None
    if as_json:
        _echo_json({"file": str(file), "sha256": digest, "dry_run": dry_run, **result.as_dict(),
                    "print_cards": print_cmd})
        if not p.ok:
            sys.exit(1)
        return
    if not p.ok:
        for problem in p.problems:
            click.echo(problem.text())
        click.echo(f"共 {len(p.problems)} 个问题,什么也没有导入 ({len(p.problems)} problems, nothing imported)。"
                   f"请改好文件后再检查:python -m office import {kind} --db {shlex.quote(str(db_path))} --dry-run "
                   f"{shlex.quote(str(file))}")
        sys.exit(1)
    if dry_run:
        click.echo(f"检查通过,共 {p.rows} 行 (check passed, {p.rows} rows):将{p.summary()}。"
                   "去掉 --dry-run 即可导入 (run again without --dry-run to import)。")
        return
    click.echo(f"已导入 {p.rows} 行 (imported {p.rows} rows):{p.summary()}。")
    if print_cmd:
        click.echo(f"已为新储户发卡 {len(result.cards)} 张,请打印储户卡 (print the new cards):")
        click.echo(f"  {print_cmd}")


def _import_command(kind: str, what: str) -> None:
    @import_group.command(kind, help=f"Import {what} from FILE (.xlsx); --dry-run only lists the problems.")
    @db_option()
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check every row and list every problem; change nothing.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document: problems, counts, new accounts.")
    @plain_errors
    def command(db_path: Path, file: Path, dry_run: bool, as_json: bool):
        _run(kind, db_path, file, dry_run, as_json)


for _kind, _what in (("roster", "households and their members (a card is issued for each new household)"),
                     ("merchants", "merchants, their offers and opening hours"),
                     ("balances", "opening balances from the paper ledger, one adjustment per household")):
    _import_command(_kind, _what)
