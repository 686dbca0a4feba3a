"""Flow runs through deployments on the local production stack, against the same flow
called in-process.

Starts `infra/local-stack` in a temporary folder (PostgreSQL, S3 server, Prefect server on
PostgreSQL, one `cpu` process worker), then measures
- latency: `prefect deployment run` of a small `ridge-cv` run → the flow run's start
  (server timestamps), several runs one after the other;
- throughput: N runs created at once through Prefect's REST API, until the last finishes;
- the peer: the same N `ridge_cv` flow calls in one Python process (no worker, no
  process start per run), against the same Prefect server, database and store.
Last line: `deployment_runs: <ratio>x vs in-process flow calls` (throughput ratio).

    .venv/bin/python benchmarks/deployment_runs.py [--runs 100] [--worker-limit 2] [--query-seconds 2]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from infra.local_stack import StackState  # noqa: E402
from infra.services import BIN, wait_for  # noqa: E402

SMALL_CSV = "a,b,c\n" + "".join(f"{i * 0.5 + 1},{i},{i % 3}\n" for i in range(40))
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _when(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--latency-runs", type=int, default=5)
    parser.add_argument("--worker-limit", type=int, default=os.cpu_count())
    parser.add_argument("--query-seconds", type=float, default=2.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="tunefleet-bench-stack-"))
    folder.chmod(0o755)
    stack = [sys.executable, "-m", "infra.local_stack", "--dir", str(folder)]
    env = {**os.environ, "PREFECT_WORKER_QUERY_SECONDS": str(args.query_seconds)}
    started = subprocess.run(
        [*stack, "start", "--no-gpu", "--no-ray", "--dask-workers", "0", "--worker-limit", str(args.worker_limit)],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if started.returncode != 0:
        sys.exit(started.stderr[-3000:])
    try:
        run(folder, args)
    finally:
        subprocess.run([*stack, "stop"], cwd=REPO, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, args) -> None:
    state = StackState.load(folder)
    env = {**os.environ, **state.env()}
    env.pop("PREFECT_HOME", None)
    os.environ.update(env)
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"  # the in-process flows log to this terminal otherwise
    api = httpx.Client(base_url=env["PREFECT_API_URL"], timeout=60)
    from tunefleet.settings import get_settings
    from tunefleet.storage import ArtifactStore

    data_uri = ArtifactStore.from_settings(get_settings()).put_bytes("bench/small.csv", SMALL_CSV.encode())
    parameters = {"data_uri": data_uri, "target": "a", "n_folds": 4, "l2_coef": [0.1, 1.0, 10.0]}
    deployment = api.get("/deployments/name/ridge-cv/ridge-cv").raise_for_status().json()["id"]

    def flow_run(run_id: str) -> dict:
        return api.get(f"/flow_runs/{run_id}").raise_for_status().json()

    latencies, walls = [], []
    for _ in range(args.latency_runs):
        began = time.time()
        out = subprocess.run(
            [str(BIN / "prefect"), "deployment", "run", "ridge-cv/ridge-cv", "--param", f"data_uri={data_uri}", "--param", "target=a"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", out).group(1)
        wait_for(lambda run_id=run_id: flow_run(run_id)["start_time"], "flow start", 120)
        started = flow_run(run_id)
        latencies.append(_when(started["start_time"]) - began)
        wait_for(lambda run_id=run_id: flow_run(run_id)["state_type"] in FINAL, "flow end", 120)
        walls.append(time.time() - began)

    began = time.time()
    ids = [
        api.post(f"/deployments/{deployment}/create_flow_run", json={"parameters": parameters})
        .raise_for_status()
        .json()["id"]
        for _ in range(args.runs)
    ]
    wait_for(lambda: all(flow_run(run_id)["state_type"] in FINAL for run_id in ids), f"{args.runs} flow runs", 3600)
    deployed_seconds = time.time() - began
    states = [flow_run(run_id)["state_type"] for run_id in ids]

    from flows.ridge import ridge_cv

    began = time.time()
    for _ in range(args.runs):
        ridge_cv(**parameters)
    inprocess_seconds = time.time() - began

    deployed_rate, inprocess_rate = 60 * args.runs / deployed_seconds, 60 * args.runs / inprocess_seconds
    print(f"worker limit {args.worker_limit}, worker poll every {args.query_seconds:g} s, {os.cpu_count()} cores")
    print(f"`prefect deployment run` -> flow start: median {statistics.median(latencies):.2f} s "
          f"(min {min(latencies):.2f}, max {max(latencies):.2f}); -> flow end: median {statistics.median(walls):.2f} s")  # fmt: skip
    print(f"{args.runs} runs through the cpu worker: {deployed_seconds:.1f} s = {deployed_rate:.1f} runs/min "
          f"({states.count('COMPLETED')} completed)")  # fmt: skip
    print(f"{args.runs} in-process flow calls: {inprocess_seconds:.1f} s = {inprocess_rate:.1f} runs/min")
    print(f"deployment_runs: {deployed_rate / inprocess_rate:.2f}x vs in-process flow calls")


if __name__ == "__main__":
    main()
