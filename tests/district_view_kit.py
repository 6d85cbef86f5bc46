"""A small district for the district view's tests: three communities (LH, JS, XY) on a real
PostgreSQL district store, each with different activity in one month (November 2026, Beijing
time) and the month before, so every figure differs from one community to the next. What was
written is returned, and the tests compute their expected numbers from it."""

from __future__ import annotations

import datetime as dt

import nacl.signing

from bank import alerts, db, devices, district, keystore, ledger, objections, quarterly_check, settings
from bank import periods, users
from tests import district_kit, pg_kit

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.timezone.utc)      # 12:00 in Beijing
IN_MONTH = [dt.datetime(2026, 11, d, 2, 0, tzinfo=dt.timezone.utc) for d in (2, 9, 16)]
# 30 Oct 17:00 UTC is 31 Oct 01:00 in Beijing: October locally, whatever UTC says
OCTOBER = dt.datetime(2026, 10, 30, 17, 0, tzinfo=dt.timezone.utc)
NAMES = {"LH": "龙海社区", "JS": "界石社区", "XY": "新苑社区"}
MARKERS = {"LH": "龙海", "JS": "界石", "XY": "新苑"}
# per community: awards per household in the month, redemptions of the bowl, objections, alerts,
# whether the last quarter (2026Q3) was verified, the merchants' monthly commitment (yuan)
PLAN = {"LH": dict(awards=3, bowls=2, objections=1, alerts=2, verified=True, commitment=1000, silent=1),
        "JS": dict(awards=1, bowls=1, objections=0, alerts=0, verified=False, commitment=None, silent=0),
        "XY": dict(awards=2, bowls=0, objections=2, alerts=1, verified=False, commitment=500, silent=2)}
DISTRICT_USER = "区王科长"
PASSWORD = district_kit.PASSWORD


def build(pg_server, tmp) -> dict:
    name = f"dview{next(pg_server._counter)}"
    with pg_server.admin() as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER {pg_kit.OWNER}")
    owner, app_url = pg_server.url(name, pg_kit.OWNER), pg_server.url(name, pg_kit.APP)
    keys = keystore.KeyStore(tmp / "keys")
    district.create(owner, app_role=pg_kit.APP)
    wrote: dict = {}
    for code, plan in PLAN.items():
        with district.new_community(owner, code=code, name=NAMES[code], app_role=pg_kit.APP) as url:
            conn = db.connect(url)
            keystore.use(conn, keys)
            base = district_kit.populate(conn, code, NAMES[code], marker=MARKERS[code])
            wrote[code] = _activity(conn, base, plan)
            conn.close()
    directory = db.connect(district.directory_url(owner))
    with db.transaction(directory):
        users.add_user(directory, name=DISTRICT_USER, role="district", password=PASSWORD, now=NOW)
    directory.close()
    return {"name": name, "owner": owner, "app": app_url, "keys": keys, "wrote": wrote}


def _activity(conn, base: dict, plan: dict) -> dict:
    award = deduction = redeemed = donated = 0
    october_award = 0
    with db.transaction(conn):
        for aid, _card, _qr in base["people"]:
            for n in range(plan["awards"]):
                award += ledger.record_item(conn, aid, "XS03", recorded_by="社区办公室", now=IN_MONTH[n]).points
            october_award += ledger.record_item(conn, aid, "XS03", recorded_by="社区办公室", now=OCTOBER).points
        first = base["people"][0][0]
        deduction -= ledger.record_item(conn, first, "XS05", recorded_by="社区办公室", now=IN_MONTH[0]).points
        for n in range(plan["bowls"]):
            e = ledger.record_redemption(conn, first, base["bowl"], recorded_by="社区办公室", now=IN_MONTH[n])
            redeemed -= e.points
            donated += 700
        # a redemption reversed in the same month counts for nothing, points or donated value
        if plan["bowls"]:
            e = ledger.record_redemption(conn, first, base["bowl"], recorded_by="社区办公室", now=IN_MONTH[0])
            ledger.reverse(conn, e.entry_id, recorded_by="社区办公室", note="误操作", now=IN_MONTH[0])
        for n in range(plan["objections"]):
            objections.raise_objection(conn, first, reason="记录有误", raised_by="社区办公室", now=IN_MONTH[0])
        for n in range(plan["alerts"]):
            alerts.raise_alert(conn, "clock_skew" if n == 0 else "chain_gap", device_id=f"T{n:04d}", now=IN_MONTH[0])
        if plan["commitment"] is not None:
            settings.put(conn, "merchants.monthly_commitment_yuan", plan["commitment"])
        # tablets enrolled long ago that never synced since: not synced
        for n in range(plan["silent"]):
            code = devices.new_enrolment_code(conn, merchant_id=base["noodles"], now=IN_MONTH[0])
            devices.enrol(conn, code, bytes(nacl.signing.SigningKey.generate().verify_key), label=f"收银台{n + 1}",
                          now=IN_MONTH[0])
    if plan["verified"]:
        quarterly_check.run(conn, periods.quarter("2026Q3"), by="社区办公室", now=NOW)
    return dict(award=award, deduction=deduction, redeemed=redeemed, donated=donated, october_award=october_award,
                holders=len(base["people"]), objections=plan["objections"], alerts=plan["alerts"],
                commitment_fen=(plan["commitment"] if plan["commitment"] is not None
                                else settings.default("merchants.monthly_commitment_yuan")) * 100,
                verified=plan["verified"], silent=plan["silent"])
