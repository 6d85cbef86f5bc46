"""What a device receives: the bytes of a full pull for a merchant tablet and for a kiosk.

    python -m bench.pulls [--seed 7]

Builds the demo community (1,080 accounts, a year of history), enrols a tablet of merchant 5 and
the kiosk of compound 1 with the in-process office, and prints the size of each one's first
(full) signed pull, beside what the same pull held of what a device must not: PIN verifiers,
addresses and full names (all zero since protocol 2). Sizes, not times: the machine's load does
not change them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import warnings
from pathlib import Path

from bank import db, demo, devices
from device import enrolment
from office.server import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient


class _Recorder:
    """The in-process office behind the device client's transport; keeps the pull answers."""

    pin = None

    def __init__(self, tc: TestClient):
        self.tc, self.pulls = tc, []

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        r = self.tc.post(path, content=body, headers={"content-type": "application/json", **headers})
        if path.endswith("/pull"):
            self.pulls.append(r.content)
        return r.status_code, r.content


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mpb-pulls-"))
    store = work / "community.sqlite"
    demo.build(store, seed=args.seed, until=dt.date(2026, 11, 26))
    conn = db.connect(store)
    secrets = {
        "PIN verifiers": [r[0] for r in conn.execute("SELECT pin_hash FROM accounts WHERE pin_hash IS NOT NULL")]
        + [r[0] for r in conn.execute("SELECT pin_hash FROM reviewers")],
        "rooms": [f'"{r[0]}"' for r in conn.execute("SELECT DISTINCT room FROM accounts WHERE length(room) >= 3")],
        "full names": [r[0] for r in conn.execute("SELECT display_name FROM accounts WHERE length(display_name) >= 2")],
    }
    conn.close()
    tc = TestClient(create_app(store))
    with tc:
        print(f"pulls: the demo community (seed {args.seed}), a device's first full pull")
        for kind, where in (("tablet", {"merchant_id": 5}), ("kiosk", {"service_point_id": 1})):
            conn = db.connect(store)
            with db.transaction(conn):
                code = devices.new_enrolment_code(conn, **where)
            conn.close()
            spy = _Recorder(tc)
            enrolment.enrol(work / kind, "http://127.0.0.1:1", code, kind=kind, transport=spy)
            answer = spy.pulls[-1]
            payload = json.loads(answer)["payload"]
            found = {what: sum(1 for s in items if s and s in payload) for what, items in secrets.items()}
            accounts_n = len(json.loads(payload)["accounts"]["rows"])
            print(f"  {kind:6}: {len(answer):>9,} bytes ({accounts_n:,} accounts); "
                  + ", ".join(f"{what} in it: {n}" for what, n in found.items()))



if __name__ == "__main__":
    main()
