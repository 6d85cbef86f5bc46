"""A store on PostgreSQL with a streaming replica, on the command line: ``serve --read-replica URL``
is checked here, and ``python -m office failover`` records that the replica was promoted to be the
store of record and says what the office must do next (docs/district-install.md, 故障切换).
"""

from __future__ import annotations

import sys

import click

from bank import db, replication
from bank.errors import BankError

from .cli import STORE, main, plain_errors


def check_read_replica(db_path, read_replica: str | None) -> None:
    """Refuse (exit 2, nothing started) a --read-replica that cannot be one; warn, and serve
    anyway, when the replica cannot be read right now: pages read the primary until it can."""
    if read_replica is None:
        return
    if not db.is_url(read_replica):
        click.echo("错误:--read-replica 须为 PostgreSQL 副本的地址 postgresql://…"
                   f" (Error: --read-replica must be a postgresql:// URL, not {read_replica!r}).", err=True)
        sys.exit(2)
    if not db.is_url(db_path):
        click.echo("错误:只读副本只用于 PostgreSQL 数据库(--db postgresql://…);SQLite 文件没有副本。"
                   " (Error: a read replica needs a store on PostgreSQL: --db postgresql://...)", err=True)
        sys.exit(2)
    from bank import district, pg
    url = read_replica
    try:
        if district.is_district(db_path):
            entries = district.communities(db_path)
            if not entries:
                return
            url = district.community_url(read_replica, entries[0].code)
        conn = db.connect(url, readonly=True)
        try:
            lag = replication.standby_lag(conn)
        finally:
            conn.close()
    except BankError as exc:
        click.echo(f"注意:现在读不了只读副本,页面先从主库读取,副本恢复后自动改用副本。({exc.zh})"
                   f" (Warning: the read replica cannot be read now: {exc.en}; pages read the primary until it can)",
                   err=True)
        return
    if lag is None:
        click.echo(f"注意:{pg.safe_url(read_replica)} 不是只读副本(不在恢复状态,可能已被提升为主库),页面都从主库读取。"
                   " (Warning: the read replica is not a standby - promoted? - pages read the primary)", err=True)
    else:
        click.echo(f"只读副本 (read replica): {pg.safe_url(read_replica)},延迟 (lag) {lag:.1f} s", err=True)


@main.command("failover")
@click.option("--db", "db_url", required=True, type=STORE,
              help="The promoted replica, the store of record from now on (postgresql://...).")
@click.option("--by", required=True, help="Who did the failover (kept in the audit log).")
@click.option("--old-primary", default="", help="The old primary's address, for the record (optional).")
@plain_errors
def failover_cmd(db_url, by: str, old_primary: str):
    """After `pg_ctlcluster 15 main promote` on the replica: check it is a primary now, record the
    failover in the audit log (every community's, on a district store), say what to do next."""
    from bank import pg
    by = by.strip()
    if not by or len(by) > 40:
        raise click.UsageError("--by 须为办理人的名字(1 到 40 个字) (--by is the name of who did it, 1 to 40 characters).")
    done = replication.record_failover(db_url if isinstance(db_url, str) else str(db_url), by=by,
                                       old_primary=old_primary.strip()[:200])
    where = (f"{len(done.communities)} 个社区的操作记录" if done.communities != [""] else "操作记录")
    url = pg.safe_url(db_url)
    click.echo(f"已记录故障切换:{url} 现在是主库(时间线 {done.timeline},日志位置 {done.lsn}),已写入{where}。")
    click.echo("接下来请办理:")
    click.echo(f"  1. 停止原来的办公室服务,改用新主库重新启动:python -m office serve --db '{url}' …"
               "(systemd:修改 mpb-office 或 mpb-district 服务的 --db 后 systemctl restart);原来的 --read-replica 先去掉,"
               "等新的副本建好后再加上。")
    click.echo("  2. 原主库不要再启动为主库:它可能有副本没来得及收到的最后几秒的数据,两边会分叉。"
               "把它清空后用 pg_basebackup 重新建成新主库的副本。")
    click.echo("  3. 各平板和自助机照常同步即可:设备保存着自己的每一条记录,办公室少了哪些(原主库最后几秒确认过、"
               "但副本没收到的),设备下次同步时会自动重新上传;设备的下一次下载是完整下载。")
    click.echo("  4. 在控制台“提醒”中查看“办公室数据落后(office_behind)”提醒,确认每台设备都已同步。")
    click.echo(f"(failover recorded: {url} is the primary now, timeline {done.timeline} at {done.lsn}. Next: serve "
               "--db the new primary; never start the old primary as a primary again (rebuild it as a replica); "
               "devices re-send what the old primary acknowledged but the replica never received at their next sync.)")
