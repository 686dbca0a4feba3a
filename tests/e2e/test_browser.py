"""What users see, in a real browser: headless Chromium (Debian's, driven by Playwright) opens the
Prefect UI's pages after `tunefleet demo` (each capability's summary with its plot, its tables, a named
run with its log, a key's history) and tunefleet's /docs, with no network beyond loopback.

Screenshots of every page visited are kept in test-output/browser/ when a test fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.services import free_port, http_ok, wait_for
from tests.support.paths import REPO
from tests.support.reports import artifacts

CHROMIUM = shutil.which("chromium")
SHOTS = REPO / "test-output" / "browser"
# What the machine's notes say Chromium needs here: no sandbox as root, and no background
# connections (this machine's closed network refuses them, many at a time).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium: scripts/browser.sh installs Debian's as root")


@pytest.fixture
def browser_page(request):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        outcome = getattr(request.node, "rep_call", None)  # tests/conftest.py keeps each phase's report
        if outcome is None or outcome.failed:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
        browser.close()


@pytest.fixture
def api(backend, tmp_path, monkeypatch):
    """``tunefleet api`` as a process, at the public URL the flows link their files to."""
    port = free_port()
    monkeypatch.setenv("TUNEFLEET_PUBLIC_URL", f"http://127.0.0.1:{port}")
    log = open(tmp_path / "api.log", "wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "tunefleet"), "api", "--port", str(port)],
        env=os.environ.copy(), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/health"), "tunefleet api", 120)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_after_the_tour_the_prefect_ui_shows_each_capabilitys_run_logs_plot_tables_and_history(api, browser_page):
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "INFO", "COLUMNS": "250"}  # its logs reach the server, as a user's
    tour = subprocess.run([str(Path(sys.executable).parent / "tunefleet"), "demo"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert tour.returncode == 0, tour.stdout[-3000:] + tour.stderr[-3000:]
    ui = os.environ["PREFECT_API_URL"].removesuffix("/api")
    assert f"the runs, their logs and artifacts: {ui}/runs and {ui}/artifacts" in tour.stdout
    page = browser_page
    plots = []
    page.on("response", lambda r: plots.append(r) if r.url.startswith(f"{api}/artifacts/") else None)

    for key, kind in (
        ("bo-demo-branin", "experiments"),
        ("sweep-demo", "sweeps"),
        ("benchmark-demo-forest", "benchmarks"),
    ):
        page.goto(f"{ui}/artifacts/artifact/{artifacts(key)[0].id}", wait_until="networkidle")  # the summary
        shown = f"img[src^='{api}/artifacts/{kind}/']"
        page.wait_for_selector(shown, timeout=60_000)
        sizes = page.eval_on_selector_all(shown, "images => images.map(i => i.naturalWidth)")
        assert sizes and all(width > 0 for width in sizes), key  # decoded
    assert len(plots) >= 3 and {(r.status, r.headers["content-type"]) for r in plots} == {(200, "image/png")}

    [ridge_table] = re.findall(r"CV table: artifact (ridge-model-\d+-cv)", tour.stdout)
    for key, wanted in ((ridge_table, {"l2_coef", "mean_mse", "best"}), ("bo-demo-branin-trials", {"x1", "x2", "response", "status"}),
                        ("benchmark-demo-forest-cells", {"platform", "optimisation", "batch_size"})):  # fmt: skip
        page.goto(f"{ui}/artifacts/artifact/{artifacts(key)[0].id}", wait_until="networkidle")
        page.wait_for_selector("th", timeout=60_000)
        columns = page.eval_on_selector_all("th", "cells => cells.map(c => c.innerText.trim())")
        assert wanted <= set(columns), (key, columns)

    bo_run = artifacts("bo-demo-branin")[0].flow_run_id  # the run is named from its work, its log readable
    page.goto(f"{ui}/runs/flow-run/{bo_run}", wait_until="networkidle")
    page.wait_for_function("document.body.innerText.includes('bo demo branin')", timeout=60_000)
    page.wait_for_function("document.body.innerText.includes('evaluations: this round')", timeout=60_000)

    page.goto(f"{ui}/artifacts/key/sweep-demo", wait_until="networkidle")  # the key's history
    page.wait_for_function("document.body.innerText.includes('sweep-demo')", timeout=60_000)


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_the_http_docs_list_every_operation_with_no_network(api, browser_page):
    page = browser_page
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((api, "data:")) else None)
    page.goto(f"{api}/docs", wait_until="networkidle")
    page.wait_for_selector(".opblock-summary-path", timeout=60_000)
    paths = set(page.eval_on_selector_all(".opblock-summary-path", "paths => paths.map(p => p.innerText.trim())"))
    assert {"/train", "/experiment/ask/{exp_uuid}", "/benchmarks", "/artifacts/{kind}/{record}/{name}"} <= paths
    assert outside == []  # Swagger UI's files come from tunefleet itself, not a CDN
