"""The demo kiosk's office side: its posting is published as the console publishes one."""

from bank import audit, db, periods, postings, verification
from demo import kiosk as kiosk_demo
from tests.conftest import copy_store


def test_the_demo_posting_follows_the_quarters_verification(demo_db, tmp_path):
    store = copy_store(demo_db, tmp_path / "community.sqlite")
    kiosk_demo.prepare(store)
    kiosk_demo.prepare(store)      # once only
    conn = db.connect(store, readonly=True)
    try:
        quarter = periods.previous_quarter()
        posting = postings.find(conn, "quarterly", quarter.key, kiosk_demo.COMPOUND)
        assert posting is not None and len(postings.all_postings(conn)) == 1
        run = verification.latest_run(conn, quarter.key)
        assert run is not None and run.run_at <= posting.created_at
        actions = [e.action for e in audit.search(conn)]
        assert actions.count("verification.run") == 1 and actions.count("posting.publish") == 1
    finally:
        conn.close()
