"""A flow's local Dask and Ray clusters report to the flow's own Prefect API, also on the embedded
defaults, where that is a temporary server no worker process could find by itself."""

import json
import os
import subprocess
import sys

from tests.support.paths import REPO

PROBE = """
import json, os, sys
from prefect import flow, task
from prefect.client.orchestration import get_client
from tasks.runners import started

@task
def worker_api():
    return os.getpid(), os.environ.get("PREFECT_API_URL")

@flow
def probe(engine):
    with get_client(sync_client=True) as client:
        own = str(client.api_url).rstrip("/")
    with started(engine, workers=2) as runner:
        seen = [runner.submit(worker_api, parameters={}).result() for _ in range(2)]
    return {"own": own, "pid": os.getpid(), "workers": seen}

print(json.dumps({engine: probe(engine) for engine in sys.argv[1:]}))
"""


def test_local_cluster_workers_inherit_the_flows_temporary_prefect_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), RAY_AUTH_MODE="disabled", PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "dask", "ray"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    for engine, probe in seen.items():
        assert probe["own"].startswith("http://127.0.0.1:"), probe  # the temporary server this flow started
        for pid, url in probe["workers"]:
            assert pid != probe["pid"] and url == probe["own"], (engine, probe)
