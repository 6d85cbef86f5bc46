"""The convention as data: the catalog file, versions with effective dates."""

import copy
import datetime as dt
import json

import pytest

from bank import convention, ledger
from bank.errors import InvalidInput

from .kit import local

pytestmark = pytest.mark.engines("sqlite", "postgresql")


def test_catalog_has_four_products_with_cadences_and_25_items_under_five_headings():
    data = convention.load_file()
    cadences = {p["name"]: (p["slogan"], p["cadence"]) for p in data["products"]}
    assert cadences == {"修身": ("天天存", "daily"), "润家": ("周周赢", "weekly"),
                        "睦邻": ("月月有", "monthly"), "怡城": ("年年续", "yearly")}
    assert len(data["items"]) == 25
    assert {i["heading"] for i in data["items"]} == set(convention.HEADINGS)
    assert all(i["description"] for i in data["items"])


@pytest.mark.parametrize("fragment,points", [
    ("红榜", 3), ("理发", 3), ("六有家庭", 5), ("不尽赡养义务", -6), ("打架斗殴", -10)])
def test_the_reports_five_items_have_their_exact_points(fragment, points):
    matches = [i for i in convention.load_file()["items"] if fragment in i["name"]]
    assert len(matches) == 1 and matches[0]["points"] == points


def test_catalog_in_store_reads_back(store):
    catalog = convention.in_force(store, dt.date(2026, 3, 1))
    assert catalog.version == 1 and len(catalog.items) == 25
    haircut = next(i for i in catalog.items if "理发" in i.name)
    assert (haircut.product.cadence, haircut.cap, haircut.cap_text) == ("monthly", 4, "每月最多4次")


def test_amendment_is_a_new_version_and_entries_keep_theirs(store, account):
    before = ledger.record_item(store, account, "XS03", recorded_by="t", now=local(2026, 5, 31, 10, 0))
    data = copy.deepcopy(convention.load_file())
    next(i for i in data["items"] if i["code"] == "XS03")["points"] = 5
    assert convention.install(store, data, effective_from=dt.date(2026, 6, 1), note="拾金不昧提高到5分") == 2
    after = ledger.record_item(store, account, "XS03", recorded_by="t", now=local(2026, 6, 1, 10, 0))
    assert (before.catalog_version, before.points, after.catalog_version, after.points) == (1, 3, 2, 5)
    assert ledger.passbook(store, account)[1].description == "拾金不昧"
    with pytest.raises(InvalidInput):
        convention.install(store, data, effective_from=dt.date(2026, 5, 1))


@pytest.mark.parametrize("mutate", [
    lambda d: d["items"][0].update(points=1.5),
    lambda d: d["items"][0].update(points=0),
    lambda d: d["items"][0].update(cap=-1),
    lambda d: d["items"][0].update(heading="其他"),
    lambda d: d["items"][1].update(code=d["items"][0]["code"]),
    lambda d: d["items"][0].update(product="ZZ"),
    lambda d: d["products"][0].update(cadence="hourly"),
    lambda d: d.pop("items"),
])
def test_invalid_catalog_files_are_refused_plainly(tmp_path, mutate):
    data = copy.deepcopy(convention.load_file())
    mutate(data)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        convention.load_file(path)
    assert "catalog file is invalid" in exc.value.en


def test_unreadable_catalog_file(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot read"):
        convention.load_file(path)
