"""A store on PostgreSQL with a streaming replica: how far behind the replica is, and the record of
a failover (the replica promoted to be the store of record).

Replication itself is PostgreSQL's (asynchronous streaming, docs/district-install.md): the bank
only reads the replica for pages that write nothing, and needs to know two things about it:

- :func:`standby_lag`: the seconds the replica's data is behind, or None when the server is not a
  standby at all (it was promoted: reading it would be reading another timeline). Caught up means
  its WAL receiver is running and it has replayed all it received; otherwise the lag is the age
  of the last transaction it replayed (``pg_last_xact_replay_timestamp``), which over-states
  the lag after a quiet spell - the safe side: a page then reads the primary.
- :func:`record_failover`: after ``pg_ctl promote``, check the server is a primary now and write
  the failover into the audit log of every community it holds, in one transaction each.

Devices are the safety net of asynchronous replication: a device keeps every event it made, and
an office that holds less of its chain than it acknowledged asks for the rest again
(``office_behind``, docs/sync-protocol.md), so what the old primary acknowledged but never
streamed comes back at the devices' next sync.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from . import audit, backup, clock, db, district
from .errors import BankError

FAILOVER_ACTION = "store.failover"


class StillStandby(BankError):
    code = "still_standby"


def standby_lag(conn) -> float | None:
    """Seconds the data of the standby behind ``conn`` lags its primary (0.0 when it has replayed
    all it received and is still receiving; ``math.inf`` when it has replayed no transaction yet);
    None when the server is not in recovery (a primary, or a promoted replica)."""
    row = conn.execute(
        "SELECT pg_is_in_recovery(),"
        " EXISTS (SELECT 1 FROM pg_stat_wal_receiver),"      # a row (its pid) for any role
        " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),"
        " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())").fetchone()
    in_recovery, receiving, replayed_all, age = row
    if not in_recovery:
        return None
    if receiving and replayed_all:
        return 0.0
    return math.inf if age is None else max(0.0, float(age))


@dataclass(frozen=True)
class Failover:
    lsn: str                  # the new primary's WAL position when the failover was recorded
    timeline: int             # its timeline (one more than the old primary's after a promote)
    communities: list[str]    # the codes whose audit log holds the record ("" for a one-community store)


def _position(raw) -> tuple[str, int]:
    lsn, walfile = raw.execute("SELECT pg_current_wal_lsn()::text, pg_walfile_name(pg_current_wal_lsn())").fetchone()
    return lsn, int(walfile[:8], 16)


def record_failover(url: str, *, by: str, old_primary: str = "", now: dt.datetime | None = None) -> Failover:
    """Check that the server at ``url`` is a primary now (raises :class:`StillStandby` when it is
    still in recovery: nothing is written) and record the failover in the audit log of the store
    (every community's, on a district store)."""
    from . import pg
    now = now or clock.now_utc()
    if not db.is_url(url):
        raise BankError("故障切换只用于 PostgreSQL 数据库(--db postgresql://…);SQLite 文件没有副本。",
                        "failover is for a store on PostgreSQL (--db postgresql://...); a SQLite file has no replica",
                        code="not_postgresql")
    stores = ([(e.code, e.url) for e in district.communities(url)] if district.is_district(url) else [("", url)])
    if not stores:
        raise BankError("区级数据库中还没有社区,无需记录故障切换。", "the district store holds no community yet",
                        code="no_community")
    recorded = []
    lsn, timeline = "", 0
    for code, store_url in stores:
        conn = db.connect(store_url, migrate=False)
        try:
            if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                raise StillStandby(
                    f"{pg.safe_url(url)} 仍是只读副本(仍在恢复中),还不能作为主库使用。请先在副本服务器上执行提升:"
                    "pg_ctlcluster 15 main promote(或 pg_ctl promote),再运行本命令。",
                    f"{pg.safe_url(url)} is still a standby (in recovery): promote it first "
                    "(pg_ctlcluster 15 main promote), then run this again")
            lsn, timeline = _position(conn.raw)
            with db.transaction(conn):
                epoch = _new_epoch(conn, url, by, lsn, timeline, now)
                audit.record(conn, by, FAILOVER_ACTION, pg.safe_url(url),
                             {"timeline": timeline, "lsn": lsn, "old_primary": old_primary or None, "epoch": epoch},
                             now=now)
        finally:
            conn.close()
        recorded.append(code)
    return Failover(lsn, timeline, recorded)


def _new_epoch(conn, url: str, by: str, lsn: str, timeline: int, now: dt.datetime) -> str:
    """What a restore from a backup records, for the same reason (bank.backup.new_epoch): the
    promoted replica may lack the old primary's last rows, and ids it hands out next may be ones
    the old primary already handed out."""
    import json

    from . import pg
    return backup.new_epoch(conn, by=by, now=now, source=f"failover: {pg.safe_url(url)}",
                            source_summary=json.dumps({"failover": True, "lsn": lsn, "timeline": timeline}))


def failovers(conn) -> list[audit.AuditRecord]:
    """The failovers recorded in a store's audit log, newest first."""
    return audit.search(conn, action=FAILOVER_ACTION)
