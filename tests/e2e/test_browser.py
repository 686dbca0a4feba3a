"""What users see, in a real browser: headless Chromium (Debian's, driven by Playwright) opens the
Prefect UI's pages of a BO run's artifacts and tunefleet's /docs, with no network beyond loopback.

Screenshots of every page visited are kept in test-output/browser/ when a test fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.bo import bo_tuning
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
def test_the_prefect_ui_shows_a_bo_runs_plot_inline_and_its_trials_table(api, browser_page):
    covars = {"x1": {"vtype": "cont", "guess": 0.5, "min": -5, "max": 10},
              "x2": {"vtype": "cont", "guess": 0.5, "min": 0, "max": 15}}  # fmt: skip
    bo_tuning(name="Browser tour", covars=covars, objective="tunefleet.objectives:branin", iterations=3,
              initial_points=3, direction="minimize")  # fmt: skip
    ui = os.environ["PREFECT_API_URL"].removesuffix("/api")
    page = browser_page
    plots = []
    page.on("response", lambda r: plots.append(r) if r.url.startswith(f"{api}/artifacts/") else None)

    page.goto(f"{ui}/artifacts/artifact/{artifacts('bo-browser-tour')[0].id}", wait_until="networkidle")
    page.wait_for_selector(f"img[src^='{api}/artifacts/experiments/']", timeout=60_000)
    assert "Best response" in page.inner_text("body")
    sizes = page.eval_on_selector_all("img[src*='/artifacts/']", "images => images.map(i => i.naturalWidth)")
    assert sizes and all(width > 0 for width in sizes)  # decoded
    assert [(r.status, r.headers["content-type"]) for r in plots] == [(200, "image/png")]

    page.goto(f"{ui}/artifacts/artifact/{artifacts('bo-browser-tour-trials')[0].id}", wait_until="networkidle")
    page.wait_for_selector("th", timeout=60_000)
    columns = page.eval_on_selector_all("th", "cells => cells.map(c => c.innerText.trim())")
    assert {"x1", "x2", "response", "status"} <= set(columns)

    page.goto(f"{ui}/artifacts/key/bo-browser-tour", wait_until="networkidle")  # the key's history
    page.wait_for_function("document.body.innerText.includes('bo-browser-tour')", timeout=60_000)


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
