"""A serving worker leaves what it built at startup out of every later garbage collection
(office.server.freeze_startup_heap): a district worker builds 200 communities' apps, about 570,000
objects kept for the life of the process, and each full collection walked them all, a pause of
about 300 ms for whichever page or push was running (bench.district: the console's p95)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import gc, json
from office import workers
app = workers.app()                    # as uvicorn's factory call in each worker
print(json.dumps({"frozen": gc.get_freeze_count(), "collected": len(gc.get_objects())}))
"""


@pytest.mark.engines("sqlite", "postgresql")
def test_a_worker_keeps_its_startup_objects_out_of_the_collector(town):
    env = {**os.environ, "MPB_SERVE_DB": str(town.path)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    # what a full collection still walks is a sliver of what the app is made of
    assert figures["frozen"] > 10 * figures["collected"], figures
