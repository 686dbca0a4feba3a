"""Helpers of the sweep tests: the CLI called in process, a project made of named configs, a slow trainable."""

import json
from pathlib import Path

from tests.support.paths import EXAMPLES

SIMPLE_SPACE = {
    "height": {"method": "uniform", "dimension": {"low": -100, "high": 100}},
    "width": {"method": "uniform", "dimension": {"low": 0, "high": 20}},
}


def cli(*args) -> int:
    from interfaces.cli import main

    return main([str(a) for a in args])


def run_json(capsys, *args) -> dict:
    capsys.readouterr()
    assert cli(*args) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def fails(capsys, *args) -> str:
    """What a command that must fail with exit code 1 wrote on stderr."""
    capsys.readouterr()
    assert cli(*args) == 1
    return capsys.readouterr().err


def hpo_options(hpo: dict) -> list[str]:
    """An hpo_config as its CLI options: ``{"trials": 4, "stop": {...}}`` → ``--trials=4 --stop={...}``."""
    return [
        f"--{key.replace('_', '-')}"
        if v is True
        else f"--{key.replace('_', '-')}={json.dumps(v) if isinstance(v, (dict, list)) else v}"
        for key, v in hpo.items()
    ]


def make_project(name, space, hpo: dict, script, model, scripts_path=EXAMPLES, model_options=(), compute=None):
    assert cli("search_space", "create", f"{name}_space", json.dumps(space)) == 0
    assert cli("hpo_config", "create", f"{name}_hpo", *hpo_options(hpo)) == 0
    assert cli("model_config", "create", f"{name}_model", "--script", script, "--model", model, *model_options) == 0
    extra = []
    if compute:
        assert cli("compute_config", "create", f"{name}_compute", *compute) == 0
        extra = ["--compute-config", f"{name}_compute"]
    assert (
        cli(
            "project",
            "create",
            name,
            "--search-space",
            f"{name}_space",
            "--hpo-config",
            f"{name}_hpo",
            "--model-config",
            f"{name}_model",
            "--scripts-path",
            scripts_path,
            *extra,
        )  # fmt: skip
        == 0
    )


def slow_trainable(folder: Path, delay: float = 0.5) -> Path:
    """Write ``slow.py`` into ``folder``: a function trainable ``slow`` over ``x`` that takes ``delay``
    seconds and appends its x to a log (long enough to kill a sweep mid-run, and to count the
    trials that ran). The log's path."""
    calls = folder / "calls.log"
    (folder / "slow.py").write_text(
        "import time\n"
        f"def slow(config):\n    open({str(calls)!r}, 'a').write(f\"{{config['x']!r}}\\n\")\n"
        f"    time.sleep({delay})\n    return {{'loss': (config['x'] - 0.3) ** 2}}\n"
    )
    return calls
