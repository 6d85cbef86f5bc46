"""The demo kiosk's office side: its postings are published as the console publishes them."""

from bank import audit, db, periods, postings, quarterly_check
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
        assert posting is not None
        assert sorted(p.kind for p in postings.all_postings(conn)) == ["quarterly", "yearly"]   # a list at the kiosk
        run = quarterly_check.latest_run(conn, quarter.key)
        assert run is not None and run.run_at <= posting.created_at
        actions = [e.action for e in audit.search(conn)]
        assert actions.count("verification.run") == 1 and actions.count("posting.publish") == 2
    finally:
        conn.close()
