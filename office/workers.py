"""``python -m office serve --db postgresql://... --workers N``: N uvicorn worker processes.

Each worker builds its app from the environment (:func:`app`, uvicorn's app factory by import
string): the store URL, the certificate fingerprint devices must see, the key directory. What one
process kept in memory and another must see is shared:

- the enrolment challenge key (``office.sync_api.ChallengeKey``): a secret the serving command
  makes once and hands every worker in ``$MPB_CHALLENGE_SECRET`` (or the operator's own), so a
  challenge made by one worker is checked by another;
- the daily expiry: run by the serving command's own (supervising) process, once per day, not
  by the workers;
- the serving claim (bank.backup) is a shared lock: every worker holds it, fine;
- the write lock is the database's; the connection pool is per worker (office.pool).

PostgreSQL only: a SQLite file has one writer, and its lock is a file lock per process.
"""

from __future__ import annotations

import os

from bank import district, keystore

ENV_DB = "MPB_SERVE_DB"
ENV_TLS = "MPB_SERVE_TLS_FINGERPRINT"
ENV_READ_REPLICA = "MPB_SERVE_READ_REPLICA"     # serve --read-replica (office.console.replica_reads)


def app():
    """The app of one worker (uvicorn calls it in each worker process)."""
    from . import district_server, server
    url = os.environ[ENV_DB]
    fingerprint = os.environ.get(ENV_TLS) or None
    keys = keystore.for_store(url)
    replica = os.environ.get(ENV_READ_REPLICA) or None
    server.configure_logging()
    if district.is_district(url):
        built = district_server.create_district_app(url, keys, tls_fingerprint=fingerprint, daily_expiry=False,
                                                    read_replica=replica)
    else:
        built = server.create_app(url, keys, tls_fingerprint=fingerprint, daily_expiry=False, read_replica=replica)
    server.freeze_startup_heap()
    return built


def environment(url: str, fingerprint: str | None, key_dir, passphrase: str | bytes | None) -> None:
    """Put what the workers need into this process's environment (they inherit it)."""
    import secrets

    from office.sync_api.enrolment import CHALLENGE_SECRET_ENV
    os.environ[ENV_DB] = url
    os.environ[ENV_TLS] = fingerprint or ""
    if key_dir is not None:
        os.environ[keystore.DIR_ENV] = str(key_dir)
    if passphrase:
        os.environ[keystore.PASSPHRASE_ENV] = passphrase.decode() if isinstance(passphrase, bytes) else passphrase
    os.environ.setdefault(CHALLENGE_SECRET_ENV, secrets.token_hex(32))


def daily_expiry(url: str) -> list:
    """The daily expiry of every community served, run here (the supervising process) once a day."""
    from . import expiry
    urls = [e.url for e in district.communities(url)] if district.is_district(url) else [url]
    return [expiry.DailyExpiry(u).start() for u in urls]


__all__ = ["app", "daily_expiry", "environment"]
