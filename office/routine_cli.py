"""The year's routine on the command line: ``python -m office expire`` (the expiry run, also
done by the server at 02:00 and by ``deploy/mpb-office-expire.timer``) and ``python -m office
passbook`` (the printed passbook of one account)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from bank import accounts, clock, db
from bank.errors import InvalidInput

from .cli import (_check_out, _echo_json, _open_ro, _resolve_account, _write_out, db_option, main,
                  plain_errors)

ACTOR = "命令行"


def _as_of(text: str | None) -> dt.date:
    """The run's local day; parsed here (not by click) so a bad date is one plain line."""
    if text is None:
        return clock.local_date(clock.now_utc())
    try:
        return clock.parse_date(text)
    except ValueError:
        raise InvalidInput(f"“{text}”不是日期,格式如 2027-01-01。", f"{text!r} is not a date like 2027-01-01") from None


@main.command("expire")
@db_option()
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Expire what was valid only up to the day before this local date (default: today).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: as_of, accounts, points.")
@plain_errors
def expire_cmd(db_path: Path, as_of: str | None, as_json: bool):
    """The expiry run (积分到期): points past their validity get an expiry entry; idempotent."""
    from . import expiry
    today = _as_of(as_of)             # checked before the store is opened: a bad date writes nothing
    conn = db.connect(db_path)
    result = expiry.run(conn, today, by=ACTOR)
    if as_json:
        _echo_json({"as_of": today.isoformat(), "accounts": result.accounts, "points": result.points})
        return
    click.echo(f"{result.text}(截至 {today.isoformat()})")


@main.command("passbook")
@db_option()
@click.argument("ident", metavar="ID")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output file (.pdf).")
@plain_errors
def passbook_cmd(db_path: Path, ident: str, out: Path):
    """The printed passbook (积分存折) of an account (ID = account id, or a 6-digit card id), as a PDF."""
    from . import passbook
    _check_out(out, ".pdf")
    conn = _open_ro(db_path)
    account_id = _resolve_account(conn, ident)
    _write_out(out, passbook.build(conn, account_id))
    acct = accounts.get(conn, account_id)
    click.echo(f"已生成储户 {account_id}({accounts.mask_name(acct.display_name)})的积分存折 (passbook written): {out}")
