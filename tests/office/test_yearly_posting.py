"""The year-end summary posting from the console: published per compound with a posting period;
bad input (a period inside the year, twice, too long, not a date, another role) writes nothing."""

from __future__ import annotations

import pytest

from bank import db, postings
from office import server

from .console_kit import Browser, count, error_text, make_store


@pytest.fixture
def store(demo_db, tmp_path):
    return make_store(demo_db, tmp_path / "store.sqlite")


@pytest.fixture
def app(store):
    return server.create_app(store)


def test_publish_the_year_end_posting(app, store):
    council = Browser(app, "李委员")
    page = council.get("/yearly?year=2025")
    assert page.status_code == 200 and "年度汇总公示" in page.text and 'action="/yearly/postings"' in page.text
    r = council.post("/yearly/postings", {"year": "2025", "compound": "2", "opens_on": "2026-01-05", "days": "10"})
    assert "公示期为 2026-01-05 至 2026-01-14" in council.follow(r).text
    c = db.connect(store, readonly=True)
    p = postings.find(c, "yearly", "2025", 2)
    assert (p.opens_on, p.closes_on, p.created_by) == ("2026-01-05", "2026-01-14", "李委员")
    assert c.execute("SELECT count(*) FROM audit_log WHERE action = 'posting.publish'").fetchone()[0] == 1
    c.close()
    pdf = council.get("/quarterly/posting.pdf?kind=yearly&year=2025&compound=2")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"


def test_bad_input_writes_nothing(app, store):
    office = Browser(app, "王主任")
    good = {"year": "2025", "compound": "2", "opens_on": "2026-01-05", "days": "7"}
    assert office.post("/yearly/postings", good).status_code == 303       # so that a second one is refused
    before = count(store, "postings"), count(store, "audit_log")
    good["compound"] = "1"
    for change, words in (({"opens_on": "2025-12-30"}, "结束后"), ({"days": "0"}, "公示天数"),
                          ({"days": "61"}, "公示天数"), ({"opens_on": "next week"}, "日期"),
                          ({"compound": "99"}, "没有编号"), ({"compound": ""}, "请填写"),
                          ({"year": "20x5"}, "不是年份"), ({"year": "2025", "compound": "2"}, "已经公示")):
        r = office.post("/yearly/postings", good | change)
        assert r.status_code in (400, 404) and words in error_text(r), (change, error_text(r))
    assert (count(store, "postings"), count(store, "audit_log")) == before
    for name in ("钱组员", "小面店"):
        assert Browser(app, name).post("/yearly/postings", good).status_code == 403
    assert count(store, "postings") == before[0]
