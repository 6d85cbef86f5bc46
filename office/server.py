"""The office's HTTP service: the sync API under ``/api/v1`` (FastAPI), mounted on :mod:`office.sync_api`.

Each route reads the raw body itself (with a size limit) and hands bytes to :mod:`office.sync_api`, so that any
malformed input becomes a 4xx with a reason rather than a framework validation error or a 500.
Database work runs in the thread pool with one store connection per thread (SQLite, or PostgreSQL for a
``postgresql://`` store: the same code through bank.db).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import sqlite3
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from bank import backup, clock, db, keystore
from bank.errors import BankError
from office import console as console_ui
from office import pool, sync_api
from sync import wire

log = logging.getLogger("office.api")
# A write waits this long for another writer (a backup, a command line holding the store) before
# the request is answered 503 with Retry-After, well within the 5 s a device or a person waits.
BUSY_TIMEOUT_S = 2.0
RETRY_AFTER_S = 5
PUSH_QUEUE_S = 10.0


def busy_answer() -> JSONResponse:
    return JSONResponse({"error": "busy", "zh": "社区办公室的数据库正忙,请稍后重试。",
                         "en": f"the office store is locked by another writer: retry in {RETRY_AFTER_S} s"},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


def _body_schema(description: str) -> dict:
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": {"type": "object"}}}}}


def create_app(db_path: str | Path, keys: keystore.KeyStore | None = None, *, tls_fingerprint: str | None = None,
               now: Callable[[], dt.datetime] = clock.now_utc, daily_expiry: bool = False,
               read_replica: str | None = None) -> FastAPI:
    """The app serving one community store (opened and migrated now, so a bad path fails early).

    ``keys``: where the issuing private key is (default: :func:`bank.keystore.for_store`);
    ``tls_fingerprint``: the SHA-256 of the certificate the server presents (None for plain HTTP
    on this machine, and in-process tests); an enrolling device must have seen exactly that one;
    ``now``: the office's clock for the sync API (tests move it; a server uses the real one);
    ``daily_expiry``: run the expiry at 02:00 local every day in a thread of its own (``serve``);
    ``read_replica``: the URL of a streaming replica of a PostgreSQL store, which the console's
    read-only pages read while it may be read (office.console.replica_reads).
    """
    db_path = db.location(db_path)           # a SQLite file, or a postgresql:// URL (kept as text)
    keys = keys or keystore.for_store(db_path)
    challenges = sync_api.ChallengeKey()
    # Held for as long as the app lives: `python -m office restore` refuses to replace a store
    # that a server is serving (and a server refuses to start during a restore). On PostgreSQL it
    # is an advisory lock held by a connection of its own (bank.backup.hold_serving_lock).
    if not db.is_url(db_path) and not db_path.is_file():
        db.connect(db_path)                  # "database file not found", in plain words
    serving = backup.hold_serving_lock(db_path)
    try:
        first = db.connect(db_path)          # raises DatabaseError: the CLI prints it and exits
        try:
            keystore.use(first, keys)
            sync_api.signing_key(first)      # no usable key file to sign pulls with: refuse to start
        finally:
            first.close()
    except BaseException:
        backup.release_serving_lock(serving)
        raise
    # SQLite has one writer at a time. Pushes that wait for it inside SQLite's busy handler sleep
    # in steps of up to 100 ms and wake to find it taken again; waiting here hands the store
    # over the moment the previous push commits. Measured with 70 tablets pushing 500 events at
    # once (2 CPUs, noisy): about 11,500 events/s with the lock, 9,800 without (5 runs each).
    push_lock = threading.Lock()

    def open_conn():
        c = db.connect(db_path, migrate=False, busy_timeout=BUSY_TIMEOUT_S)
        keystore.use(c, keys)
        return c

    # PostgreSQL: a connection of the process's pool lent per request; SQLite: one per thread
    connections = pool.source(db_path, open_conn, keys, BUSY_TIMEOUT_S)
    conn = connections.get

    app = FastAPI(title="道德积分银行 · 社区办公室同步接口 (Moral Points Bank office sync API)",
                  version="1", docs_url="/docs", redoc_url=None)
    app.state.serving_lock = serving
    # also callable once by whoever stops serving in-process (a restore drill in one process)
    app.state.release_serving_lock = weakref.finalize(app, backup.release_serving_lock, serving)
    weakref.finalize(app, connections.close_all)

    def request_log(app):
        """Every request: its store loans given back at its very end, a JSON log line, and a plain
        500 (or "busy") for an error nothing else answered. Plain ASGI, not BaseHTTPMiddleware:
        that one hands each body chunk of a push through a task group of its own."""
        async def logged(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            started = time.perf_counter()
            rid = uuid.uuid4().hex[:12]
            scope.setdefault("state", {})["rid"] = rid
            status = None

            async def sending(message):
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            loans = pool.begin_request()      # the store connections this request borrows (office.pool)
            try:
                await app(scope, receive, sending)
            except Exception as exc:   # noqa: BLE001 - log and answer without leaking internals
                if status is not None:      # the answer has begun: nothing else can be sent
                    raise
                if isinstance(exc, sqlite3.OperationalError) and db.is_busy(exc):
                    response = busy_answer() if for_devices(Request(scope)) else console.busy_page(None)
                else:
                    log.exception(json.dumps({"rid": rid, "event": "unhandled"}))
                    response = JSONResponse({"error": "internal", "zh": "办公室服务器内部错误。",
                                             "en": "internal error"}, status_code=500)
                await response(scope, receive, sending)
            finally:
                pool.leave(loans)
                if loans[1]:
                    await run_in_threadpool(pool.end_request, loans)
            headers = Headers(scope=scope)
            declared = headers.get("content-length", "")
            client = scope.get("client")
            log.info(json.dumps({
                "rid": rid, "method": scope["method"], "path": scope["path"], "status": status,
                "device": headers.get(wire.H_DEVICE), "bytes_in": int(declared) if declared.isdigit() else 0,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "client": client[0] if client else None}, ensure_ascii=False))
        return logged

    app.add_middleware(request_log)

    async def read_body(request: Request, limit: int) -> bytes:
        """The body, refusing (413) as soon as it grows past ``limit``."""
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise wire.ProtocolError("too_large", "请求太大。", f"request body over {limit} bytes", status=413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise wire.ProtocolError("too_large", "请求太大。", f"request body over {limit} bytes", status=413)
            chunks.append(chunk)
        return b"".join(chunks)

    def answer(func):
        async def route(request: Request):
            try:
                limit = wire.MAX_PUSH_BYTES if request.url.path.endswith("/push") else wire.MAX_SMALL_BYTES
                body = await read_body(request, limit)
                result = await run_in_threadpool(func, request, body)
                return JSONResponse(result)
            except wire.ProtocolError as exc:
                wait = exc.extra.get("retry_after")
                return JSONResponse(exc.body(), status_code=exc.status,
                                    headers={"Retry-After": str(wait)} if wait else None)
            except sqlite3.OperationalError as exc:
                if db.is_busy(exc):
                    return busy_answer()
                raise
            except BankError as exc:
                return JSONResponse({"error": exc.code, "zh": exc.zh, "en": exc.en}, status_code=400)
        route.__name__ = func.__name__
        route.__doc__ = func.__doc__
        return route

    def authed(func):
        def run(request: Request, body: bytes):
            at = now()
            c = conn()
            device, skew = sync_api.authenticate(c, request.method, signed_path(request), request.headers, body, at)
            return func(c, device, body, at, skew)
        return run

    def enrol_challenge(request: Request, body: bytes):
        """Step 1 of enrolment: a fresh challenge for an outstanding code, {protocol, code_id}."""
        return sync_api.enrol_challenge(conn(), body, now(), challenges)

    def enrol(request: Request, body: bytes):
        """Step 2: register a device key, proven by an HMAC keyed from the code and a signature."""
        return sync_api.enrol(conn(), body, now(), key=challenges, tls_fingerprint=tls_fingerprint)

    def push(request: Request, body: bytes):
        """Push a signed batch of chained device events; answers {acked_seq, ...}."""
        # pushes queue here for the store (milliseconds each); one that cannot get its turn in
        # PUSH_QUEUE_S (the store is held by someone else) is told to come back later
        if not push_lock.acquire(timeout=PUSH_QUEUE_S):
            raise sqlite3.OperationalError("database is locked (push queue)")
        try:
            at = now()
            c = conn()
            # the request time is claimed inside the push's own transaction: one commit per batch
            device, skew = sync_api.authenticate(c, request.method, signed_path(request), request.headers, body, at,
                                                 claim=False)
            return sync_api.push(c, device, body, at, skew, request_time=request.headers[wire.H_TIME])
        finally:
            push_lock.release()

    def pull(request: Request, body: bytes):
        """Pull a snapshot or a delta since a cursor, signed with the community key."""
        return authed(sync_api.pull)(request, body)

    def authorise(request: Request, body: bytes):
        """Check a PIN or authorise a redemption online: {purpose, card, card_version, proof, pin, points}."""
        at = now()
        c = conn()
        device, _skew = sync_api.authenticate(c, request.method, signed_path(request), request.headers, body, at)
        return sync_api.authorise(c, device, body, at, request.headers[wire.H_TIME])

    app.add_api_route(wire.API + "/enrol/challenge", answer(enrol_challenge), methods=["POST"],
                      openapi_extra=_body_schema("{protocol, code_id}"), summary="Enrolment challenge")
    app.add_api_route(wire.API + "/enrol", answer(enrol), methods=["POST"],
                      openapi_extra=_body_schema("{protocol, code_id, challenge, public_key, label, tls, signature, mac}"),
                      summary="Enrol a device")
    app.add_api_route(wire.API + "/push", answer(push), methods=["POST"],
                      openapi_extra=_body_schema("{protocol, device, events, signature}"), summary="Push events")
    app.add_api_route(wire.API + "/pull", answer(pull), methods=["POST"],
                      openapi_extra=_body_schema("{cursor, full}"), summary="Pull a snapshot or delta")
    app.add_api_route(wire.API + "/authorise", answer(authorise), methods=["POST"],
                      openapi_extra=_body_schema("{purpose, card, card_version, proof, pin, points}"),
                      summary="Check a PIN, authorise a redemption or a review-group member online")

    @app.get(wire.API + "/health", summary="Liveness and office time")
    def health():
        return {"ok": True, "server_time": clock.to_text(now()), "protocol": wire.PROTOCOL,
                "enrol_protocol": wire.ENROL_PROTOCOL}

    console = console_ui.mount(app, db_path, keys)   # the console (HTML) at /, login at /login
    console.clock = now                               # one clock for the API and the console
    weakref.finalize(app, console.connections.close_all)
    if read_replica:
        console.use_read_replica(read_replica)
        weakref.finalize(app, console.replica.close_all)
        app.router.on_shutdown.append(console.replica.close_all)

    def shut_down() -> None:    # uvicorn's shutdown (and a TestClient's exit): close the sessions
        connections.close_all()
        console.connections.close_all()
    app.router.on_shutdown.append(shut_down)
    if daily_expiry:
        from office import expiry
        app.state.daily_expiry = expiry.DailyExpiry(db_path, now=now).start()
        weakref.finalize(app, app.state.daily_expiry.stop)

    # Devices get JSON under the API; a person in a browser anywhere else gets a page in Chinese.
    def for_devices(request: Request) -> bool:
        path = request.url.path
        return path == wire.API or path.startswith(wire.API + "/") or path in ("/docs", "/openapi.json")

    @app.exception_handler(404)
    async def not_found(request: Request, exc):
        if not for_devices(request):
            return await run_in_threadpool(console.http_error_page, request, 404)
        return JSONResponse({"error": "not_found", "zh": "没有这个接口。", "en": "no such endpoint"}, status_code=404)

    @app.exception_handler(405)
    async def bad_method(request: Request, exc):
        if not for_devices(request):
            return await run_in_threadpool(console.http_error_page, request, 405)
        return JSONResponse({"error": "method_not_allowed", "zh": "请求方法不对。", "en": "method not allowed"},
                            status_code=405)

    return app


def signed_path(request: Request) -> str:
    """The path a device signed: the whole path it sent, with the prefix under which a district
    server serves this community (``/c/LH``, office.district_server), so that a request signed
    for one community is refused at another's address."""
    return request.scope.get(FULL_PATH, request.url.path)


FULL_PATH = "mpb.full_path"   # the scope key where a prefix-serving dispatcher keeps the path as sent


def configure_logging() -> None:
    """One JSON object per request on stderr (uvicorn's own access log is turned off)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for logger in (log, logging.getLogger("office.expiry"), logging.getLogger("office.console")):
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def freeze_startup_heap() -> None:
    """Keep what serving built at startup out of every later garbage collection (gc.freeze).

    A district worker holds about 570,000 objects once it has built 200 communities' apps, all of
    them for the life of the process, and each full collection walked them all: a pause of about
    300 ms for whichever request was running (the console's p95, a push's p99). Called once, by
    the serving command and each worker, after the app is built; not by create_app, which tests
    call many times in one process."""
    gc.collect()
    gc.freeze()


__all__ = ["create_app", "configure_logging", "freeze_startup_heap"]
