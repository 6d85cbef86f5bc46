"""``python -m office``: the office's command line (click).

Every command prints a one-line message in plain words and exits non-zero on bad input; no
traceback reaches the user, and a refused command writes nothing.
"""

from __future__ import annotations

import copy

import datetime as dt
import functools
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import click

from bank import accounts, cardcode, cards, clock, convention, db, demo, ledger, recorders, validity
from bank.errors import BankError

from .usage import PlainGroup


class DateType(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return clock.parse_date(value)
        except ValueError:
            self.fail(f"{value!r} 不是 YYYY-MM-DD 格式的日期 (not a date in the form YYYY-MM-DD)", param, ctx)


class StoreType(click.ParamType):
    """``--db``: a SQLite file path (a ``Path``) or a ``postgresql://`` URL (kept as text)."""

    name = "PATH|URL"

    def convert(self, value, param, ctx):
        if isinstance(value, Path) or db.is_url(value):
            return value
        text = str(value)
        if "://" in text:
            self.fail(f"{text.split('://')[0]}:// 不是支持的数据库:"
                      "--db 是 SQLite 数据库文件的路径,或 postgresql:// 地址 "
                      "(--db is a SQLite file path or a postgresql:// URL)", param, ctx)
        if not text.strip():
            self.fail("数据库路径不能为空 (the database path is empty)", param, ctx)
        return Path(text)


STORE = StoreType()


def db_option(required: bool = True):
    """``--db`` (a SQLite file or a PostgreSQL URL) and ``--community CODE``: one community of a
    district store (bank.district), which the command then reaches as a store of its own."""

    def decorate(func):
        @functools.wraps(func)
        def with_community(*args, community: str | None = None, **kwargs):
            if community is not None and kwargs.get("db_path") is not None:
                kwargs["db_path"] = _community_store(kwargs["db_path"], community)
            return func(*args, **kwargs)

        with_community = click.option(
            "--community", default=None, metavar="CODE",
            help="One community of a district store (--db postgresql://...), by its code, e.g. LH.")(with_community)
        return click.option("--db", "db_path", required=required, type=STORE,
                            help="The community's store: a SQLite file, or a PostgreSQL URL "
                                 "(postgresql://...).")(with_community)
    return decorate


def _community_store(store, code: str) -> str:
    """The store URL of community ``code`` of the district store ``store``, or exit 1 saying why."""
    from bank import district

    @plain_errors
    def resolve():
        if not db.is_url(store):
            raise BankError("--community 只能用于区级数据库(postgresql://…),SQLite 文件只有一个社区。",
                            "--community is for a district store (postgresql://...); a SQLite file holds one "
                            "community", code="invalid_input")
        district.check_code(code)
        if code not in {e.code for e in district.communities(store)}:
            raise BankError(f"区级数据库中没有社区 {code}。可用 python -m office community list --db URL 查看。",
                            f"the district store has no community {code} (see 'office community list')",
                            code="not_found")
        return district.community_url(store, code)
    return resolve()


def key_options(func):
    """Where the issuing private key is, and its passphrase (see bank.keystore)."""
    func = click.option("--ask-passphrase", is_flag=True,
                        help="Ask for the key file's passphrase (default: $MPB_KEY_PASSPHRASE, or none).")(func)
    return click.option("--key-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Directory of the issuing key files (default: $MPB_KEY_DIR, else beside the "
                             "database: community.sqlite -> community.keys).")(func)


def _keys(db_path: Path, key_dir: Path | None, ask: bool, *, new: bool = False):
    from bank import keystore
    passphrase = None
    if ask:
        passphrase = click.prompt("密钥文件口令 (key file passphrase)", hide_input=True, confirmation_prompt=new)
        if not passphrase:
            raise click.UsageError("口令不能为空 (the passphrase must not be empty)")
    return keystore.for_store(db_path if db.is_url(db_path) else Path(db_path), directory=key_dir,
                              passphrase=passphrase)


def _tls_base(db_path, keys=None) -> Path:
    """Where the office's own certificate is made: beside a SQLite store (community.tls.crt), or
    for a store on a database server in its key directory (office.tls.crt), which is the office
    machine's own place for secrets."""
    if not db.is_url(db_path):
        return Path(db_path)
    from bank import keystore
    keys = keys or keystore.for_store(db_path)
    try:
        keys.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BankError(f"无法建立密钥目录 {keys.directory}:{exc.strerror}。",
                        f"cannot make the key directory {keys.directory}: {exc.strerror}", code="key_file") from None
    return keys.directory / "office"


def _connect_with_keys(db_path: Path, key_dir: Path | None, ask: bool, *, new: bool = False) -> sqlite3.Connection:
    from bank import keystore
    keys = _keys(db_path, key_dir, ask, new=new)
    conn = db.connect(db_path)
    keystore.use(conn, keys)
    return conn


def plain_errors(func):
    """Turn a bank refusal or a database problem into one line on stderr and exit 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BankError as exc:
            click.echo(f"错误:{exc.zh} (Error: {exc.en})", err=True)
            sys.exit(1)
        except sqlite3.Error as exc:
            click.echo(f"错误:数据库出错 (Error: database problem: {exc})", err=True)
            sys.exit(1)
        except BrokenPipeError:
            sys.exit(0)  # output piped into head or less that quit early
        except OSError as exc:
            click.echo(f"错误:无法读写文件 (Error: {exc.strerror}: {exc.filename})", err=True)
            sys.exit(1)

    return wrapper


def _open_ro(path: Path) -> sqlite3.Connection:
    return db.connect(path, readonly=True)


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


@click.group(cls=PlainGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """龙海社区道德积分银行 · 社区办公室 (Moral Points Bank: the community office)."""


@main.command("demo")
@db_option()
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed: same seed and date, same community.")
@click.option("--until", type=DateType(), default=None, help="Last day of the history, two years from the scheme's start (default: today; never past now).")
@click.option("--communities", type=click.IntRange(1, demo.MAX_COMMUNITIES), default=None,
              help="Build this many demo communities (distinct codes and names) in a district store "
                   "(--db postgresql://...; an empty database becomes a district store).")
@click.option("--app-role", default=None, help="With --communities: the PostgreSQL role the office runs as.")
@key_options
@plain_errors
def demo_cmd(db_path: Path, seed: int, until: dt.date | None, communities: int | None, app_role: str | None,
             key_dir: Path | None, ask_passphrase: bool):
    """Build a demo community shaped like Longhai in a new database file (its issuing key in a key file)."""
    started = time.monotonic()
    keys = _keys(db_path, key_dir, ask_passphrase, new=True)
    if communities is not None:
        if not db.is_url(db_path):
            raise click.UsageError("--communities 需要区级数据库 --db postgresql://… "
                                   "(--communities needs a district store on PostgreSQL).")

        def built(code, name, summary):
            click.echo(f"已建立演示社区 {code} {name} ({time.monotonic() - started:.1f} s): {_demo_line(summary)}")
        demo.build_district(db_path, communities, seed=seed, until=until, keys=keys, app_role=app_role,
                            progress=built)
        click.echo(f"已建立 {communities} 个演示社区 (demo district built in {time.monotonic() - started:.1f} s).")
        return
    summary = demo.build(db_path, seed=seed, until=until, keys=keys)
    click.echo(f"已建立演示社区 {db.shown(db_path)} (demo community built in {time.monotonic() - started:.1f} s): "
               f"{_demo_line(summary)}")


def _demo_line(summary) -> str:
    return (f"{summary.accounts} 户储户, {summary.cards} 张卡, {summary.merchants} 家商户, "
            f"{summary.entries} 条台账; 加分 {summary.awarded}, 扣分 {summary.deducted}, "
            f"兑换 {summary.redeemed}, 到期 {summary.expired}.")


@main.command("migrate")
@db_option()
@click.option("--app-role", default=None,
              help="PostgreSQL: the role the office runs as gets its rights here (never UPDATE/DELETE on the ledger).")
@key_options
@plain_errors
def migrate_cmd(db_path: Path, app_role: str | None, key_dir: Path | None, ask_passphrase: bool):
    """Upgrade a database to this program's schema version; move an issuing private key that an
    older database still holds into its key file (and wipe it from the database file)."""
    if app_role is not None and not db.is_url(db_path):
        raise click.UsageError("--app-role 只用于 PostgreSQL 数据库 (--app-role is for a postgresql:// store).")
    conn = _connect_with_keys(db_path, key_dir, ask_passphrase, new=True)
    click.echo(f"数据库已是第 {db.user_version(conn)} 版 (schema up to date).")
    if app_role is not None:
        from bank import pg
        pg.grant_app_role(conn, app_role)
        click.echo(f"已授权数据库角色 {app_role} 读写,台账只增不改 (role {app_role} granted; the ledger stays append-only).")
    if conn.execute("SELECT count(*) FROM issuing_keys WHERE private_key IS NOT NULL").fetchone()[0]:
        on_file = db.engine(conn) == "sqlite"
        if on_file:
            conn.execute("PRAGMA secure_delete=ON")
        with db.transaction(conn):
            moved = cards.move_keys_out(conn)
        db.scrub(conn)
        from bank import keystore
        click.echo(f"已把发卡密钥 {'、'.join(moved)} 移到密钥目录 {keystore.of(conn).directory},数据库中不再有私钥 "
                   f"(issuing private key(s) moved to their key files; the database keeps only public keys).")
        if not on_file:
            click.echo("注意:PostgreSQL 的预写日志归档和以前的备份里可能还有旧私钥;若它们曾被复制出去,请运行 keys rotate "
                       "换新密钥 (PostgreSQL's WAL archive and older backups may still hold the old private key: "
                       "if they ever left this server, run keys rotate).")


@main.command("cards")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="One JSON document: a list of cards.")
@plain_errors
def cards_cmd(db_path: Path, as_json: bool):
    """Every card version: card id, version, account id, status, QR text."""
    rows = cards.all_cards(_open_ro(db_path))
    if as_json:
        _echo_json([{"card_id": c.card_id, "version": c.version, "account_id": c.account_id,
                     "role": c.role, "status": c.status, "qr": c.qr} for c in rows])
        return
    click.echo("卡号\t版本\t储户\t状态\t二维码内容")
    status_zh = {"active": "有效", "superseded": "已换发", "revoked": "已作废"}
    for c in rows:
        click.echo(f"{c.card_id}\t{c.version}\t{c.account_id}\t{status_zh[c.status]}\t{c.qr}")


@main.command("verify-card")
@db_option()
@click.argument("text")
@plain_errors
def verify_card_cmd(db_path: Path, text: str):
    """Check scanned card text: exit 0 and the account if valid, exit 1 and the reason if not."""
    conn = _open_ro(db_path)
    try:
        claim, card = cards.verify_text(conn, text)
    except cardcode.CardRefused as exc:
        click.echo(f"无效卡 (refused: {exc.reason}):{exc.zh} {exc.en}")
        sys.exit(1)
    acct = accounts.get(conn, card.account_id)
    click.echo(f"有效卡 (valid): 卡号 {claim.card_id} 第{claim.version}版 · 储户 {acct.account_id} "
               f"{acct.display_name} · 余额 {ledger.balance(conn, acct.account_id)} 分")


def _resolve_account(conn: sqlite3.Connection, ident: str) -> int:
    """A 6-digit ID is a card id; anything else numeric is an account id."""
    ident = ident.strip()
    if not ident.isascii() or not ident.isdigit():
        raise BankError(f"“{ident}”不是储户编号或卡号。", f"{ident!r} is not an account id or card id",
                        code="invalid_input")
    if len(ident) == 6:
        return cards.current(conn, ident).account_id
    account_id = int(ident)
    accounts.get(conn, account_id)
    return account_id


@main.command("balance")
@db_option()
@click.argument("ident", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with account_id, balance, entries.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Passbook lines.")
@plain_errors
def balance_cmd(db_path: Path, ident: str, as_json: bool, limit: int):
    """Balance and passbook of an account (ID = account id, or a 6-digit card id)."""
    conn = _open_ro(db_path)
    account_id = _resolve_account(conn, ident)
    acct = accounts.get(conn, account_id)
    bal = ledger.balance(conn, account_id)
    lines = ledger.passbook(conn, account_id, limit=limit)
    today = clock.local_date(clock.now_utc())
    expiring = validity.expiring_within(conn, account_id, today)
    if as_json:
        _echo_json({
            "account_id": account_id, "holder": acct.display_name, "status": acct.status, "balance": bal,
            "expiring_soon": [{"last_valid_day": d.isoformat(), "points": p} for d, p in expiring],
            "entries": [{"entry_id": ln.entry.entry_id, "date": ln.local_date.isoformat(), "kind": ln.entry.kind,
                         "points": ln.entry.points, "description": ln.description,
                         "balance_after": ln.balance_after, "reversed": ln.reversed,
                         "recorded_by": ln.entry.recorded_by, "recorder": recorders.label(ln.entry.recorded_by),
                         "device_id": ln.entry.device_id,
                         "note": ln.entry.note} for ln in lines]})
        return
    _print_passbook(conn, account_id, bal, lines, expiring)


def _print_passbook(conn, account_id, bal, lines, expiring) -> None:
    acct = accounts.get(conn, account_id)
    kind = "家庭" if acct.kind == "household" else "个人"
    click.echo(f"储户 {account_id} · {acct.display_name}({kind})· 余额 {bal} 分")
    for day, pts in expiring:
        click.echo(f"  注意:{pts} 分将于 {day} 到期")
    click.echo(f"  {'日期':<10} {'类别':<4} {'积分':>5} {'余额':>5}  摘要")
    for ln in lines:
        mark = "(已冲正)" if ln.reversed else ""
        click.echo(f"  {ln.local_date.isoformat():<12} {ledger.KIND_NAMES[ln.entry.kind]:<4} "
                   f"{ln.entry.points:>+6} {ln.balance_after:>6}  {ln.description}{mark} · {recorders.label(ln.entry.recorded_by)}")


@main.command("rules")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@plain_errors
def rules_cmd(db_path: Path, as_json: bool):
    """The convention's catalog in force: product, cadence, item, points, cap."""
    catalog = convention.in_force(_open_ro(db_path))
    if as_json:
        _echo_json({"version": catalog.version, "effective_from": catalog.effective_from.isoformat(),
                    "products": [{"code": p.code, "name": p.name, "slogan": p.slogan, "cadence": p.cadence}
                                 for p in catalog.products],
                    "items": [{"code": i.code, "product": i.product.code, "product_name": i.product.name,
                               "cadence": i.product.cadence, "heading": i.heading, "name": i.name,
                               "points": i.points, "cap": i.cap, "description": i.description}
                              for i in catalog.items]})
        return
    click.echo(f"居民公约积分细则 第{catalog.version}版(自 {catalog.effective_from} 起施行)")
    for product in catalog.products:
        click.echo(f"\n【{product.name}】{product.slogan}")
        for i in catalog.items:
            if i.product == product:
                click.echo(f"  {i.code}  {i.points:>+4} 分  {i.cap_text:<8}  {i.heading} · {i.name}")


@main.command("tour")
@db_option()
@plain_errors
def tour_cmd(db_path: Path):
    """A short tour of a community database: counts, a few cards, one passbook."""
    from bank import community
    conn = _open_ro(db_path)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    click.echo(f"== {community.name(conn) or '社区'}道德积分银行 · 数据一览 ==")
    click.echo(f"小区 {one('SELECT count(*) FROM compounds')} 个, 楼栋 {one('SELECT sum(buildings) FROM compounds')} 栋, "
               f"储户 {one('SELECT count(*) FROM accounts')} 户 (成员 {one('SELECT count(*) FROM members')} 人), "
               f"志愿服务队 {one('SELECT count(*) FROM volunteer_teams')} 支, 商户 {one('SELECT count(*) FROM merchants')} 家")
    totals = dict(conn.execute("SELECT kind, sum(points) FROM ledger_entries GROUP BY kind").fetchall())
    reversals = one("SELECT count(*) FROM ledger_entries WHERE kind = 'reversal'")
    click.echo(f"台账 {one('SELECT count(*) FROM ledger_entries')} 条: 加分 {totals.get('award', 0)}, "
               f"扣分 {-totals.get('deduction', 0)}, 兑换 {-totals.get('redemption', 0)}, "
               f"到期 {-totals.get('expiry', 0)}, 冲正 {reversals} 笔")
    click.echo("\n-- 与报告对照 (the report's figures beside this community's) --")
    for label, report, here in demo.figures(conn):
        click.echo(f"{label:<8}  报告 {report:<14}  本库 {here}")
    click.echo("\n-- 几张卡 (cards) --")
    for status in ("active", "superseded", "revoked"):
        row = conn.execute("SELECT card_id, version, account_id, qr FROM cards WHERE status = ? "
                           "ORDER BY card_id LIMIT 1", (status,)).fetchone()
        if row:
            click.echo(f"{status:<10} 卡号 {row[0]} 第{row[1]}版 储户 {row[2]}: {row[3]}")
    row = conn.execute("SELECT account_id FROM ledger_entries GROUP BY account_id "
                       "ORDER BY count(DISTINCT kind) DESC, count(*) DESC, account_id LIMIT 1").fetchone()
    if row is None:     # a community just founded: nothing booked yet
        click.echo("\n台账还没有记录 (no ledger entries yet).")
        return
    richest = row[0]
    click.echo("\n-- 一本存折 (a passbook) --")
    today = clock.local_date(clock.now_utc())
    _print_passbook(conn, richest, ledger.balance(conn, richest), ledger.passbook(conn, richest, limit=12),
                    validity.expiring_within(conn, richest, today))
    shown = db.shown(db_path)
    click.echo(f"\n试试 (try): python -m office balance --db {shown} {richest}"
               f"\n           python -m office rules --db {shown}")


# --- devices and the sync service ---------------------------------------------------------------

def _certificate_for_codes(db_path: Path, conn) -> str:
    """The fingerprint enrolment codes carry: the one ``serve`` recorded, else the office's own
    certificate's (made now if need be; ``serve`` without --tls-cert will present it)."""
    from bank import community, devices

    from . import tls

    fp = devices.office_fingerprint(conn)
    if fp is None:
        cert, _ = tls.own_certificate(_tls_base(db_path), community.name(conn))
        fp = tls.fingerprint(cert)
        with db.transaction(conn):
            devices.record_office_fingerprint(conn, fp)
    return fp


@main.command("serve")
@db_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for the LAN).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The operator's certificate (PEM) instead of the office's own one beside the store.")
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The private key (PEM) of --tls-cert.")
@click.option("--insecure-http", is_flag=True,
              help="Plain HTTP, for development on 127.0.0.1 only (devices refuse it anywhere else).")
@click.option("--no-daily-expiry", is_flag=True,
              help="Do not run the expiry at 02:00 local each day (when mpb-office-expire.timer does it).")
@click.option("--pool-size", type=click.IntRange(1, 1000), default=None,
              help="PostgreSQL only: connections in this process's pool, shared by every community "
                   "(default 10, or $MPB_POOL_SIZE).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="PostgreSQL only: serve with this many worker processes.")
@click.option("--read-replica", "read_replica", default=None, metavar="URL",
              help="A streaming replica of the PostgreSQL store (postgresql://...): the console's read-only "
                   "pages (dashboard, figures, reports, audit) read it; sessions and writes stay on --db.")
@key_options
@plain_errors
def serve_cmd(db_path: Path, host: str, port: int, tls_cert: Path | None, tls_key: Path | None, insecure_http: bool,
              no_daily_expiry: bool, pool_size: int | None, workers: int, key_dir: Path | None, ask_passphrase: bool,
              read_replica: str | None = None):
    """Serve the sync API for devices under /api/v1 and the console at / over HTTPS."""
    import uvicorn

    from bank import community, devices

    from . import server, tls
    _pool_options(db_path, pool_size)
    if workers > 1 and not db.is_url(db_path):
        click.echo("错误:--workers 只用于 PostgreSQL 数据库(postgresql://…);SQLite 文件同一时间只能有一个写入者,"
                   "请用一个进程服务。 (Error: --workers needs a postgresql:// store; a SQLite file is served by one "
                   "process.)", err=True)
        sys.exit(2)

    if insecure_http and host != "127.0.0.1":
        click.echo(f"错误:--insecure-http 只能和 --host 127.0.0.1 一起用(本机开发),不能用于 {host}。"
                   f" (Error: --insecure-http is for 127.0.0.1 only, not {host}.)", err=True)
        sys.exit(2)
    if insecure_http and (tls_cert or tls_key):
        raise click.UsageError("--insecure-http cannot be combined with --tls-cert/--tls-key.")
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together.")
    replica_cli.check_read_replica(db_path, read_replica)    # imported at the end of this module
    if read_replica and workers > 1:     # each worker builds its own app (office.workers) and reads it there
        import os

        from . import workers as worker_kit
        os.environ[worker_kit.ENV_READ_REPLICA] = read_replica
    from bank import district
    if db.is_url(db_path) and district.is_district(db_path):
        _serve_district(db_path, host, port, tls_cert, tls_key, insecure_http, no_daily_expiry, key_dir, ask_passphrase,
                        workers, read_replica=read_replica)
        return
    app_fp = None
    keys = _keys(db_path, key_dir, ask_passphrase)     # a URL store without a key directory: refused here
    if not insecure_http:
        conn = db.connect(db_path)       # a bad database fails here, before a certificate is made
        try:
            if tls_cert is None:
                tls_cert, tls_key = tls.own_certificate(_tls_base(db_path, keys), community.name(conn))
            tls.check_pair(tls_cert, tls_key)
            app_fp = tls.fingerprint(tls_cert)
            with db.transaction(conn):       # enrolment codes carry the certificate actually served
                devices.record_office_fingerprint(conn, app_fp)
        finally:
            conn.close()
    # opens, migrates, loads the key: a bad database or key fails here
    app = server.create_app(db_path, keys, tls_fingerprint=app_fp, daily_expiry=not no_daily_expiry and workers == 1,
                            read_replica=read_replica)
    if workers > 1:     # the check is done: the workers build their own apps (office.workers)
        from bank import backup
        backup.release_serving_lock(app.state.serving_lock)
        app = None
    server.configure_logging()
    # Listen before saying it started: a busy port is one line and exit 1, not "已启动" followed
    # by uvicorn's error. uvicorn serves on this very socket, so nothing can take the port between.
    sock = _listen(host, port)
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_level="warning",
                            ssl_certfile=str(tls_cert) if app_fp else None, ssl_keyfile=str(tls_key) if app_fp else None)
    scheme = "http" if insecure_http else "https"
    click.echo(f"办公室服务已启动 (serving {db.shown(db_path)}) at {scheme}://{host}:{port}/  sync API: /api/v1  docs: /docs",
               err=True)
    if app_fp:
        click.echo(f"证书指纹 (certificate SHA-256): {tls.spaced(app_fp)}", err=True)
    else:
        click.echo("注意:明文 HTTP,仅供本机开发 (plain HTTP, development on this machine only)", err=True)
    if workers > 1:
        _run_workers(db_path, sock, host, port, tls_cert, tls_key, app_fp, workers, key_dir, keys, no_daily_expiry)
        return
    server.freeze_startup_heap()
    uvicorn.Server(config).run(sockets=[sock])


def _run_workers(url: str, sock, host: str, port: int, tls_cert, tls_key, app_fp, workers: int, key_dir, keys,
                 no_daily_expiry: bool) -> None:
    """uvicorn's supervisor with ``workers`` processes on the socket already bound; the daily expiry
    runs here, in the supervising process, once a day for all of them (office.workers)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from . import workers as worker_kit
    worker_kit.environment(url, app_fp, key_dir, getattr(keys, "passphrase", None))
    config = uvicorn.Config("office.workers:app", factory=True, host=host, port=port, workers=workers,
                            access_log=False, log_level="warning",
                            ssl_certfile=str(tls_cert) if app_fp else None, ssl_keyfile=str(tls_key) if app_fp else None)
    jobs = [] if no_daily_expiry else worker_kit.daily_expiry(url)
    click.echo(f"{workers} 个工作进程 ({workers} worker processes)", err=True)
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        for job in jobs:
            job.stop()


def _pool_options(db_path, pool_size: int | None) -> None:
    """``--pool-size`` reaches office.pool through the environment (as every worker would read it)."""
    if pool_size is None:
        return
    if not db.is_url(db_path):
        click.echo("错误:--pool-size 只用于 PostgreSQL 数据库(postgresql://…);SQLite 文件不用连接池。"
                   " (Error: --pool-size is for a postgresql:// store only; a SQLite file has no pool.)", err=True)
        sys.exit(2)
    from . import pool
    os.environ[pool.ENV_SIZE] = str(pool_size)


def _serve_district(url: str, host: str, port: int, tls_cert: Path | None, tls_key: Path | None, insecure_http: bool,
                    no_daily_expiry: bool, key_dir: Path | None, ask_passphrase: bool, workers: int = 1, *,
                    read_replica: str | None = None) -> None:
    """``serve`` on a district store: every community at /c/CODE/ (office.district_server)."""
    import uvicorn

    from bank import district, pg

    from . import district_server, server, tls
    if not insecure_http and tls_cert is None:
        raise click.UsageError("区级服务需要证书:--tls-cert 和 --tls-key(或本机开发用 --insecure-http)"
                               " (a district server needs --tls-cert and --tls-key, or --insecure-http on 127.0.0.1).")
    app_fp = None
    if tls_cert is not None:
        tls.check_pair(tls_cert, tls_key)
        app_fp = tls.fingerprint(tls_cert)
    keys = _keys(url, key_dir, ask_passphrase)
    app = None
    if workers == 1:
        app = district_server.create_district_app(url, keys, tls_fingerprint=app_fp, daily_expiry=not no_daily_expiry,
                                                  read_replica=read_replica)
    server.configure_logging()
    sock = _listen(host, port)
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_level="warning",
                            ssl_certfile=str(tls_cert) if app_fp else None, ssl_keyfile=str(tls_key) if app_fp else None)
    scheme = "http" if insecure_http else "https"
    codes = [e.code for e in district.communities(url)]
    click.echo(f"区级服务已启动 (serving district {pg.safe_url(url)}, {len(codes)} communities) at "
               f"{scheme}://{host}:{port}/  each community: /c/CODE/ (e.g. /c/{codes[0] if codes else 'LH'}/)",
               err=True)
    if app_fp:
        click.echo(f"证书指纹 (certificate SHA-256): {tls.spaced(app_fp)}", err=True)
    if workers > 1:
        _run_workers(url, sock, host, port, tls_cert, tls_key, app_fp, workers, key_dir, keys, no_daily_expiry)
        return
    server.freeze_startup_heap()
    uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int):
    """The server's listening socket, bound to ``host:port``; a taken port is said in plain words."""
    import errno
    import socket
    try:
        listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET,
                                        backlog=2048)
        # asyncio turns Nagle's algorithm off only on accepted sockets whose listener says
        # IPPROTO_TCP, and create_server leaves it 0 (uvicorn#3149): each keep-alive request after
        # a device's first would wait ~40 ms for the device's delayed ACK
        return socket.socket(listener.family, listener.type, socket.IPPROTO_TCP, fileno=listener.detach())
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BankError(f"端口 {port} 已被占用(办公室服务可能已在运行),请先停止占用它的程序,或用 --port 换一个端口。",
                            f"port {port} is in use", code="port_in_use") from None
        raise BankError(f"无法在 {host}:{port} 上提供服务:{exc.strerror}。", f"cannot listen on {host}:{port}: {exc}",
                        code="cannot_listen") from None


def _server_option_ok(server: str) -> bool:
    import urllib.parse
    url = urllib.parse.urlsplit(server)
    return bool(url.hostname) and (url.scheme == "https" or (
        url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost")))


@main.command("enrol")
@db_option()
@click.option("--merchant", "merchant_id", type=int, default=None, help="Enrol a tablet of this merchant.")
@click.option("--kiosk", "service_point_id", type=int, default=None, help="Enrol the kiosk of this service point.")
@click.option("--hours", type=click.IntRange(1, 720), default=24, show_default=True, help="How long the code is valid.")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the code as a QR image (PNG) for the tablet to scan; needs --server.")
@click.option("--server", default=None,
              help="The office address the device should use (e.g. https://192.168.1.10:8080), put in the QR.")
@plain_errors
def enrol_cmd(db_path: Path, merchant_id: int | None, service_point_id: int | None, hours: int,
               qr_path: Path | None, server: str | None):
    """Make a one-time enrolment code for a device (printed alone on the last line).

    The code carries a check of the office certificate's fingerprint, the QR the whole
    fingerprint: the device pins it and talks to no other server."""
    from bank import devices

    from . import tls

    # The QR carries the office address too, so the device needs nothing typed; check it before
    # a code is spent.
    if qr_path is not None and not _server_option_ok(server or ""):
        raise click.UsageError("--qr needs --server https://HOST:PORT (the office address the device will use; "
                               "plain http:// only for 127.0.0.1).")
    conn = db.connect(db_path)
    if server is not None:
        server = _community_address(server, db_path, conn)
    fp = _certificate_for_codes(db_path, conn)
    with db.transaction(conn):
        code = devices.new_enrolment_code(conn, merchant_id=merchant_id, service_point_id=service_point_id,
                                          hours=hours)
    what = f"商户 {merchant_id} 的平板" if merchant_id is not None else f"服务点 {service_point_id} 的一体机"
    if qr_path is not None:
        import segno
        # make_qr, never make: a short text would otherwise become a Micro QR few scanners read
        segno.make_qr(devices.enrol_qr_text(server, code, fp), error="m").save(str(qr_path), scale=8, border=4)
        click.echo(f"二维码已保存 (QR written): {qr_path}")
    click.echo(f"办公室证书指纹 (office certificate SHA-256): {tls.spaced(fp)}")
    click.echo(f"{what}登记码,{hours} 小时内有效,只能使用一次 (one-time enrolment code, valid {hours} h):")
    click.echo(code)


def _community_address(server: str, db_path, conn) -> str:
    """The office address a device of this store uses: for a community of a district store the
    district server's address with the community's own path (/c/CODE), added when not given."""
    import urllib.parse

    from bank import community, district
    if not db.is_url(db_path) or not district.has_directory(db_path) or district.is_district(db_path):
        return server
    parts = urllib.parse.urlsplit(server)
    if parts.path.strip("/"):
        return server
    return server.rstrip("/") + "/c/" + community.code(conn)


# the American spelling people type, not listed in --help
_enroll = copy.copy(enrol_cmd)
_enroll.hidden = True
main.add_command(_enroll, "enroll")


def _device_rows(conn):
    from bank import devices, merchants as merchants_mod
    names = {m.merchant_id: m.name for m in merchants_mod.all_merchants(conn)}
    pending = dict(conn.execute("SELECT device_id, count(*) FROM device_events GROUP BY device_id").fetchall())
    rows = []
    for d in devices.all_devices(conn):
        rows.append({"device_id": d.device_id, "kind": d.kind, "merchant_id": d.merchant_id,
                     "merchant": names.get(d.merchant_id), "service_point_id": d.service_point_id,
                     "label": d.label, "status": d.status, "enrolled_at": d.enrolled_at,
                     "revoked_at": d.revoked_at, "last_seq": d.last_seq, "events": pending.get(d.device_id, 0),
                     "last_push_at": d.last_push_at, "last_pull_at": d.last_pull_at,
                     "last_sync_at": max(filter(None, (d.last_push_at, d.last_pull_at)), default=None),
                     "clock_skew_s": d.clock_skew_s, "held_at": d.held_at, "status_name": devices.status_name(d)})
    return rows


@main.command("devices")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="One JSON document: a list of devices.")
@plain_errors
def devices_cmd(db_path: Path, as_json: bool):
    """Enrolled devices with their last sync."""
    from bank import devices, policy
    conn = _open_ro(db_path)
    rows = _device_rows(conn)
    if as_json:
        _echo_json(rows)
        return
    click.echo("设备\t类型\t商户/服务点\t状态\t事件\t上次同步(北京时间)\t时钟偏差(秒)")
    for r in rows:
        where = r["merchant"] if r["kind"] == "tablet" else f"服务点{r['service_point_id']}"
        synced = _local_text(r["last_sync_at"]) if r["last_sync_at"] else "从未"
        click.echo(f"{r['device_id']}\t{devices.KIND_NAMES[r['kind']]}\t{where}\t{r['status_name']}\t{r['last_seq']}\t"
                   f"{synced}\t{r['clock_skew_s'] if r['clock_skew_s'] is not None else '-'}")
    exposure = policy.worst_case_exposure(conn, devices.tablets_by_merchant(conn))
    click.echo(f"一张被复制的卡在所有平板离线时一天最多可兑换 {exposure} 分 "
               f"(worst case for one copied card: {exposure} points a day)")


@main.command("revoke-device")
@db_option()
@click.argument("device_id")
@plain_errors
def revoke_device_cmd(db_path: Path, device_id: str):
    """Revoke a device: everything it sends from now on is refused."""
    from bank import devices
    conn = db.connect(db_path)
    with db.transaction(conn):
        d = devices.revoke(conn, device_id)
    click.echo(f"设备 {d.device_id} 已于 {_local_text(d.revoked_at)} 注销,此后它发来的任何数据都将被拒收 (revoked).")


@main.command("merchants")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="A list of merchants with their offers.")
@plain_errors
def merchants_cmd(db_path: Path, as_json: bool):
    """Merchants and their offers."""
    from bank import merchants as merchants_mod
    conn = _open_ro(db_path)
    rows = [{"merchant_id": m.merchant_id, "name": m.name, "category": m.category, "status": m.status,
             "offers": [{"offer_id": o.offer_id, "name": o.name, "points": o.points, "value_yuan": o.value_yuan}
                        for o in merchants_mod.offers_of(conn, m.merchant_id)]}
            for m in merchants_mod.all_merchants(conn)]
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['merchant_id']}\t{r['name']}({merchants_mod.CATEGORIES.get(r['category'], r['category'])})")
        for o in r["offers"]:
            click.echo(f"    {o['offer_id']}\t{o['name']}\t{o['points']} 分\t¥{o['value_yuan']}")


@main.command("alerts")
@db_option()
@click.option("--json", "as_json", is_flag=True)
@plain_errors
def alerts_cmd(db_path: Path, as_json: bool):
    """Open alerts for the office: chain forks and gaps, overdrafts, clock skew, refused events."""
    from bank import alerts
    rows = alerts.open_alerts(_open_ro(db_path))
    if as_json:
        _echo_json([vars(a) for a in rows])
        return
    if not rows:
        click.echo("没有未处理的提醒 (no open alerts).")
        return
    for a in rows:
        times = f"×{a.count},最近 {_local_text(a.last_at)}" if a.count > 1 else ""
        click.echo(f"{a.alert_id}\t{_local_text(a.raised_at)}\t{a.label} ({a.kind}){times}\t{a.device_id or ''}\t"
                   f"{a.card_id or ''}\t{a.detail}")


@main.command("clear-hold")
@db_option()
@click.argument("ident", metavar="CARD_OR_DEVICE")
@click.option("--by", "by", required=True, help="Who clears the hold (recorded).")
@plain_errors
def clear_hold_cmd(db_path: Path, ident: str, by: str):
    """Take a card off hold (after an overdraft was settled; devices get it at their next pull),
    or a device (T0001, K0001) held after breaking rules (its events are checked again)."""
    from bank import alerts, devices
    conn = db.connect(db_path)
    with db.transaction(conn):
        if ident[:1] in ("T", "K"):
            devices.release(conn, ident, by=by)
            click.echo(f"设备 {ident} 已解除暂停,此后所发事件逐条核对 (device released).")
            return
        alerts.clear_hold(conn, ident, by=by)
    click.echo(f"卡 {ident} 已解除暂停 (hold cleared).")


@main.group("quarantine", invoke_without_command=True)
@click.option("--db", "db_path", type=STORE, default=None,
              help="The community store (a SQLite file or a postgresql:// URL): lists the open cases.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of cases.")
@click.option("--all", "every", is_flag=True, help="Decided cases too, not only open ones.")
@click.pass_context
@plain_errors
def quarantine_group(ctx, db_path: Path | None, as_json: bool, every: bool):
    """Device events the office did not charge (they broke a rule): list them, post or reject each."""
    if ctx.invoked_subcommand is not None:
        return
    if db_path is None:
        raise click.UsageError("缺少 --db (Missing option --db).")
    from office.sync_api import quarantine
    rows = quarantine.search(_open_ro(db_path), status=None if every else "open", limit=100_000)
    if as_json:
        _echo_json([c.as_dict() for c in rows])
        return
    if not rows:
        click.echo("没有待审核的事件 (no quarantined events)." if not every else "没有暂扣过的事件 (none).")
        return
    for c in rows:
        click.echo(f"{c.quarantine_id}\t{c.device_id}:{c.seq}\t{quarantine.KIND_NAMES.get(c.kind, c.kind)}\t{c.card_id or c.account_id or ''}\t"
                   f"{c.points:+d}\t{c.rule_text} ({c.rule})\t{_local_text(c.device_time)}\t{c.status_name}")


def _local_text(utc_text: str) -> str:
    """A stored UTC time as a person reads it: local (Asia/Shanghai) minutes."""
    try:
        return clock.local(clock.from_text(utc_text)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return utc_text


def _decide(db_path: Path, case_id: int, by: str, reason: str, action: str) -> None:
    from office.sync_api import quarantine
    conn = db.connect(db_path)
    case = getattr(quarantine, action)(conn, case_id, by=by, reason=reason)
    verb = "已放行入账" if action == "post" else "已驳回"
    click.echo(f"第 {case.quarantine_id} 号事件{verb} ({case.device_id}:{case.seq}, {case.points:+d} 分).")


@quarantine_group.command("post")
@db_option()
@click.argument("case_id", metavar="ID", type=int)
@click.option("--by", required=True, help="Who decides (recorded).")
@click.option("--reason", default="", help="Why (optional for posting).")
@plain_errors
def quarantine_post_cmd(db_path: Path, case_id: int, by: str, reason: str):
    """Book a quarantined event as the device sent it."""
    _decide(db_path, case_id, by, reason, "post")


@quarantine_group.command("reject")
@db_option()
@click.argument("case_id", metavar="ID", type=int)
@click.option("--by", required=True, help="Who decides (recorded).")
@click.option("--reason", required=True, help="Why (the merchant sees it on the tablet).")
@plain_errors
def quarantine_reject_cmd(db_path: Path, case_id: int, by: str, reason: str):
    """Never charge a quarantined event; the device is told at its next pull."""
    _decide(db_path, case_id, by, reason, "reject")


# --- backups and the restore drill ----------------------------------------------------------------

@main.command("backup")
@db_option()
@click.option("--to", "to_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the backups, on a second disk (made if missing).")
@click.option("--keep", type=click.IntRange(1, 100000), default=None,
              help="Keep only the newest N backups of this store in that directory.")
@click.option("--all", "every", is_flag=True,
              help="A district store (--db postgresql://...): back up every community, one file each.")
@plain_errors
def backup_cmd(db_path: Path, to_dir: Path, keep: int | None, every: bool):
    """An online copy of the store, checked before it is kept (the server may keep running)."""
    from bank import backup
    stores = [db_path]
    if every:
        from bank import district
        if not db.is_url(db_path) or not district.has_directory(db_path):
            raise BankError("--all 只能用于区级数据库(postgresql://…)。", "--all is for a district store (postgresql://...)",
                            code="invalid_input")
        stores = [e.url for e in district.communities(db_path)]
    for store in stores:
        path, summary, removed = backup.make_backup(store, to_dir, keep=keep)
        click.echo(f"备份完成,检查通过 (backup written and checked): {path}")
        click.echo(f"  {summary.describe()}")
        if removed:
            click.echo(f"  已删除较旧的 {len(removed)} 份备份 (pruned): {', '.join(p.name for p in removed)}")


@main.command("restore")
@click.option("--from", "backup_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to restore (from python -m office backup).")
@db_option()
@click.option("--yes", is_flag=True, help="Really replace the store; without it, only say what would be replaced.")
@click.option("--by", "by", default=None, help="Who restores (recorded in the store); default: the login name.")
@click.option("--other-community", "other", is_flag=True,
              help="PostgreSQL: allow a backup of another community to replace this one.")
@plain_errors
def restore_cmd(backup_file: Path, db_path: Path, yes: bool, by: str | None, other: bool):
    """Replace the store by a backup (the server must be stopped); the replaced store is kept."""
    import getpass

    from bank import backup
    backup.check_not_in_use(db_path)
    plan = backup.plan_restore(backup_file, db_path, allow_other=other)
    for line in plan.describe():
        click.echo(line)
    if not yes:
        click.echo("没有恢复任何内容。核对无误后加上 --yes 再运行一次 (nothing restored: add --yes to replace the store)",
                   err=True)
        sys.exit(1)
    aside = backup.restore(plan, by=by or getpass.getuser())
    click.echo(f"已恢复 (restored) {db.shown(db_path)}"
               + (f";原来的数据库保留在 (the replaced store is kept as) {aside}" if aside else ""))
    click.echo("启动办公室服务后,各设备下次同步时会重新上传备份之后的记录 "
               "(devices re-send what the backup lacks at their next sync)")


# --- reports, postings, card sheets and console users (the council's work) ----------------------

def _out_option(*suffixes: str):
    return click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                        help=f"Output file ({', '.join(suffixes)}).")


def _check_out(out: Path, *suffixes: str) -> None:
    """Checked in the command (not a click callback) so a wrong name is one plain line too."""
    from bank.errors import InvalidInput
    if out.suffix.lower() not in suffixes:
        raise InvalidInput(f"输出文件须以 {' 或 '.join(suffixes)} 结尾。", f"--out must end in {' or '.join(suffixes)}")


def _write_out(out: Path, data: bytes) -> None:
    """Write the whole file or nothing: a temporary name first, then a rename."""
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(out)


@main.group("report")
def report_group():
    """Reports for the notice board and the council."""


@report_group.command("monthly")
@db_option()
@click.option("--month", required=True, help="The month, e.g. 2026-10.")
@_out_option(".pdf", ".xlsx")
@plain_errors
def report_monthly_cmd(db_path: Path, month: str, out: Path):
    """The monthly redemption table: per merchant and offer, count, points and value (PDF or Excel)."""
    from bank import periods
    from . import reports
    _check_out(out, ".pdf", ".xlsx")
    period = periods.month(month)
    conn = _open_ro(db_path)
    data = reports.monthly_pdf(conn, period) if out.suffix.lower() == ".pdf" else reports.monthly_xlsx(conn, period)
    _write_out(out, data)
    click.echo(f"已生成 {period.label}兑换统计表 (monthly redemption table written): {out}")


@main.command("posting")
@db_option()
@click.option("--quarter", required=True, help="The quarter, e.g. 2026Q3.")
@click.option("--compound", "compound_id", required=True, type=int, help="Compound number.")
@_out_option(".pdf")
@plain_errors
def posting_cmd(db_path: Path, quarter: str, compound_id: int, out: Path):
    """A compound's quarterly posting (公示) as a printable PDF, names masked."""
    from bank import periods, postings
    from . import reports
    _check_out(out, ".pdf")
    period = periods.quarter(quarter)
    conn = _open_ro(db_path)
    data = reports.posting_pdf(conn, period, compound_id,
                               posting=postings.find(conn, "quarterly", period.key, compound_id))
    _write_out(out, data)
    click.echo(f"已生成 {postings.compound_name(conn, compound_id)} {period.label}公示 (posting written): {out}")


@main.command("print-cards")
@db_option()
@_out_option(".pdf")
@click.argument("idents", nargs=-1, metavar="[ACCOUNT]...")
@plain_errors
def print_cards_cmd(db_path: Path, out: Path, idents: tuple[str, ...]):
    """Card sheets (CR80 cards, ten per A4 page) for the accounts given, or every active card."""
    from . import cardsheet
    _check_out(out, ".pdf")
    conn = _open_ro(db_path)
    if not idents:
        _write_out(out, cardsheet.build(conn, None))
        click.echo(f"已生成储户卡打印文件 (card sheet written): {out}")
        return
    # One account without a card (or a mistyped number) is left out and named, not the whole sheet.
    account_ids, unknown = [], []
    for ident in idents:
        try:
            account_ids.append(_resolve_account(conn, ident))
        except BankError as exc:
            unknown.append(exc.zh)
    sheet = cardsheet.build_many(conn, account_ids) if account_ids else None
    skipped = unknown + [why for _, why in sheet.skipped] if sheet else unknown
    if sheet is None:
        raise BankError("没有可打印的卡:" + ";".join(skipped), "no cards to print", code="invalid_input")
    _write_out(out, sheet.data)
    for why in skipped:
        click.echo(f"未打印:{why}", err=True)
    click.echo(f"已生成 {len(sheet.printed)} 户的储户卡打印文件 (card sheet written): {out}"
               + (f";{len(skipped)} 户未打印,见上。" if skipped else ""))


@main.group("user")
def user_group():
    """Console users: office staff, council members, review-group members, merchants."""


@user_group.command("add")
@db_option()
@click.option("--role", required=True, type=click.Choice(["office", "council", "reviewer", "merchant", "district"]),
              help="district: a district user, on the district store itself (--db URL without --community).")
@click.option("--name", required=True, help="Log-in name (shown in the audit log).")
@click.option("--compound", "compound_id", type=int, default=None, help="A reviewer's compound (optional check).")
@click.option("--reviewer", "reviewer_id", type=int, default=None,
              help="The review-group member (see `reviewer list`) this user is; required for --role reviewer.")
@click.option("--merchant", "merchant_id", type=int, default=None, help="A merchant user's merchant id.")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Read the password from the first line of this file instead of a prompt.")
@plain_errors
def user_add_cmd(db_path: Path, role: str, name: str, compound_id: int | None, reviewer_id: int | None,
                 merchant_id: int | None, password_file: Path | None):
    """Add a console user (password from a prompt, or --password-file)."""
    from bank import audit, users
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
    else:
        password = click.prompt("密码 (password)", hide_input=True, confirmation_prompt=True)
    if role == "district" and db.is_url(db_path):
        from bank import district
        if district.is_district(db_path):       # district users live in the directory schema
            db_path = district.directory_url(db_path)
    conn = db.connect(db_path)
    with db.transaction(conn):
        uid = users.add_user(conn, name=name, role=role, password=password, compound_id=compound_id,
                             merchant_id=merchant_id, reviewer_id=reviewer_id)
        audit.record(conn, "命令行", "user.add", f"user {uid}", {"name": name.strip(), "role": role})
    click.echo(f"已添加用户 {name.strip()}({users.ROLES[role]}) (user {uid} added).")


@main.group("reviewer")
def reviewer_group():
    """Review-group members (评议小组成员): staff cards and kiosk PINs."""


@reviewer_group.command("add")
@db_option()
@click.option("--compound", "compound_id", required=True, type=int, help="The compound whose review group it is.")
@click.option("--account", "account_id", required=True, type=int, help="The member's own household account.")
@click.option("--name", required=True, help="The member's name, as among the household's members.")
@click.option("--pin-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Read the kiosk PIN from the first line of this file instead of a prompt.")
@key_options
@plain_errors
def reviewer_add_cmd(db_path: Path, compound_id: int, account_id: int, name: str, pin_file: Path | None,
                     key_dir: Path | None, ask_passphrase: bool):
    """Add a resident to their compound's review group and issue their staff card."""
    from bank import audit, reviews
    if pin_file is not None:
        lines = pin_file.read_text(encoding="utf-8").splitlines()
        pin = lines[0].strip() if lines else ""
    else:
        pin = click.prompt("一体机密码 (kiosk PIN, 4-6 digits)", hide_input=True, confirmation_prompt=True)
    conn = _connect_with_keys(db_path, key_dir, ask_passphrase)
    with db.transaction(conn):
        member, card = reviews.join_group(conn, compound_id=compound_id, account_id=account_id, name=name, pin=pin)
        audit.record(conn, "命令行", "reviewer.add", f"reviewer {member.reviewer_id}",
                     {"compound": compound_id, "account": account_id, "name": member.name, "card_id": card.card_id})
    click.echo(f"{member.name} 已加入评议小组,成员编号 {member.reviewer_id},工作卡卡号 {card.card_id} "
               f"(reviewer {member.reviewer_id} added, staff card {card.card_id}).")


@reviewer_group.command("list")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="One JSON document: a list of members.")
@plain_errors
def reviewer_list_cmd(db_path: Path, as_json: bool):
    """Every review-group member: compound, household account, staff card, active or not."""
    from bank import reviewers, users
    conn = _open_ro(db_path)
    logins = {u.reviewer_id: u.name for u in users.all_users(conn) if u.reviewer_id is not None}
    rows = [{"reviewer_id": m.reviewer_id, "compound_id": m.compound_id, "account_id": m.account_id, "name": m.name,
             "card_id": m.card_id, "active": m.active, "console_user": logins.get(m.reviewer_id)}
            for m in reviewers.all_members(conn)]
    if as_json:
        _echo_json(rows)
        return
    click.echo("编号\t小区\t储户\t姓名\t工作卡\t状态\t管理台账号")
    for r in rows:
        click.echo(f"{r['reviewer_id']}\t{r['compound_id']}\t{r['account_id']}\t{r['name']}\t{r['card_id']}\t"
                   f"{'在组' if r['active'] else '已退出'}\t{r['console_user'] or '-'}")


# --- the issuing keys ------------------------------------------------------------------------------

@main.group("keys")
def keys_group():
    """The community's issuing keys: each private key is a file outside the database (0600)."""


_KEY_STATES = {"ok": "可用", "encrypted": "已加密(需口令)", "missing": "找不到文件", "unusable": "无法使用"}


@keys_group.command("list")
@db_option()
@key_options
@click.option("--json", "as_json", is_flag=True, help="One JSON document: a list of keys.")
@plain_errors
def keys_list_cmd(db_path: Path, key_dir: Path | None, ask_passphrase: bool, as_json: bool):
    """Every issuing key: created, retired, its key file and whether that file can be used."""
    from bank import keystore
    conn = _open_ro(db_path)
    keystore.use(conn, _keys(db_path, key_dir, ask_passphrase))
    rows = cards.key_states(conn)
    if as_json:
        _echo_json(rows)
        return
    click.echo("密钥\t启用\t停用\t文件状态\t密钥文件")
    for r in rows:
        made = f"{clock.local(clock.from_text(r['created_at'])):%Y-%m-%d}"
        retired = f"{clock.local(clock.from_text(r['retired_at'])):%Y-%m-%d}" if r["retired_at"] else "当前使用"
        click.echo(f"{r['key_id']}\t{made}\t{retired}\t{_KEY_STATES[r['state']]}\t{r['file']}")


@keys_group.command("rotate")
@db_option()
@key_options
@plain_errors
def keys_rotate_cmd(db_path: Path, key_dir: Path | None, ask_passphrase: bool):
    """Make a new issuing key: new cards and every pull are signed with it; cards signed with the
    old key stay valid until revoked, and devices learn the new public key in their next pull."""
    from bank import audit
    conn = _connect_with_keys(db_path, key_dir, ask_passphrase, new=True)
    cards.signing_key(conn)         # the current key must be usable: a lost key is not rotated silently
    with db.transaction(conn):
        key_id = cards.create_issuing_key(conn)
        audit.record(conn, "命令行", "keys.rotate", key_id)
    from bank import keystore
    click.echo(f"新的发卡密钥 {key_id} 已启用,私钥在 {keystore.of(conn).directory} "
               f"(new issuing key {key_id}; old cards stay valid until revoked).")


@keys_group.command("protect")
@db_option()
@key_options
@plain_errors
def keys_protect_cmd(db_path: Path, key_dir: Path | None, ask_passphrase: bool):
    """Encrypt the key files with a new passphrase (asked twice), or with an empty answer remove it.
    --ask-passphrase first asks for the current one."""
    from bank import community
    conn = _open_ro(db_path)
    keys = _keys(db_path, key_dir, ask_passphrase)
    new = click.prompt("新口令,直接回车表示不加密 (new passphrase, empty for none)", hide_input=True,
                       confirmation_prompt=True, default="", show_default=False)
    done = keys.protect(community.code(conn), cards.public_keys(conn), new or None)
    click.echo(f"已{'加密' if new else '去掉口令'} {len(done)} 个密钥文件 (key files rewritten: {len(done)}).")
from .import_cli import import_group  # noqa: E402  (it uses the helpers above)
main.add_command(import_group)
# Registration (account, merchant, offer, team, card) lives in its own module, which uses the helpers
# above and adds its groups to ``main`` when imported (whichever of the two modules is imported first).
from . import registration_cli  # noqa: E402,F401
from . import routine_cli  # noqa: E402,F401  (expire, passbook: the year's routine)
from . import district_cli  # noqa: E402,F401  (community add, community list: a district store)
from . import replica_cli  # noqa: E402,F401  (failover; serve --read-replica is checked there)
