"""The district benchmark still runs at smoke size (python -m bench.district, issue 13), within a
minute, on a durable PostgreSQL cluster of its own, and what it prints is its figures: every event
settled exactly once in every community, the ceiling beside settle, pulls and pages."""

import subprocess
import sys
import time

import pytest

from tests import pg_kit

pytestmark = pytest.mark.slow


def test_the_district_benchmark_runs_at_smoke_size():
    if pg_kit.bin_dir() is None:
        pytest.skip("no PostgreSQL here; `make test` installs it")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "bench.district", "--communities", "2", "--tablets", "2", "--events", "20",
                           "--rounds", "2", "--pages-rounds", "2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "fsync=on, synchronous_commit=on, full_page_writes=on" in out      # the real figure, not a fast-and-loose one
    assert "every event settled exactly once (40 per community, checked in all 2)" in out
    # both ceilings: the real schema (the target's) and the stricter one without foreign keys
    assert out.count("settle reaches") == 3, out
    for line in ("PostgreSQL night: 80 events", "SQLite night: 40 events", "into the real schema, a copy of the store",
                 "without foreign keys or triggers", "tablet full pull",
                 "kiosk full pull", "district view pages", "slowest p95"):
        assert line in out, out
    assert time.monotonic() - started < 60, "the smoke run must stay under a minute"


def test_bad_sizes_are_refused_in_plain_words():
    proc = subprocess.run([sys.executable, "-m", "bench.district", "--tablets", "0"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "--tablets must be at least 1" in proc.stderr and "Traceback" not in proc.stderr
