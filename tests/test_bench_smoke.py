"""Every benchmark still runs (tiny sizes): a benchmark that rots is found here, not when someone
needs its numbers. Figures are not checked — timing belongs to the benchmarks themselves."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

CASES = {
    "bench.ledger": ["--accounts", "200", "--entries", "2000", "--lookups", "50"],
    "bench.ingest": ["--tablets", "3", "--events", "20", "--accounts", "100", "--big", "300"],
    "bench.redeem": ["--n", "5"],
    "bench.scan": ["--n", "2", "--jobs", "1"],
    "bench.console": ["--rounds", "1"],
    "bench.imports": ["--rows", "60"],
    "bench.pulls": [],
    "bench.pool": ["--n", "5"],
}


@pytest.mark.parametrize("module", sorted(CASES))
def test_benchmark_runs(module):
    proc = subprocess.run([sys.executable, "-m", module, *CASES[module]], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip(), "a benchmark prints its figures"
