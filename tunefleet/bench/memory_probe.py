"""Child process of ``measure.measure_memory``: prepare one candidate, predict once, report peak RSS.

Run as ``python -m tunefleet.bench.memory_probe FOLDER``; FOLDER holds spec.json,
candidate.bin and X.npy, and receives result.json.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

import numpy as np

from tunefleet.bench.optimisations import Candidate
from tunefleet.bench.registry import load_platform


def peak_rss_bytes() -> int:
    """This process's resident-set high-water mark.

    Linux: VmHWM of /proc/self/status, the peak of this program's own memory map.
    ru_maxrss would not do there: exec carries the parent's high-water mark over, so a
    child of a big parent reports the parent's size. Elsewhere ru_maxrss (bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def main(folder: Path) -> None:
    spec = json.loads((folder / "spec.json").read_text())
    candidate = Candidate.from_dict(spec["candidate"], (folder / "candidate.bin").read_bytes())
    X = np.load(folder / "X.npy")
    platform = load_platform(spec["target"], spec["params"])
    baseline = peak_rss_bytes()
    predictor = platform.prepare(candidate, Path(spec["workdir"]), spec["threads"])
    try:
        predictor.predict(X)
    finally:
        predictor.close()
    result = {"baseline_rss_bytes": baseline, "peak_rss_bytes": peak_rss_bytes()}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        result["gpu_peak_allocated_bytes"] = int(torch.cuda.max_memory_allocated())
    (folder / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
