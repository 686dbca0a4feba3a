"""Where a person opens what a flow publishes: the report files each capability writes to the
store, signed links to them over HTTP, and the stable keys of their Prefect artifacts.

The Prefect UI renders an artifact's markdown and images, but it opens no ``s3://`` URI or
server path and sends no token. So the API serves each report file at
``/artifacts/{kind}/{record}/{name}`` (``interfaces/routes/artifacts.py``), and a flow links to
it with a signature of that one path: HMAC-SHA256 under a key derived from the token signing
key, so the API and the workers that share ``TUNEFLEET_JWT_SECRET`` agree on it. Whoever holds
a link can open that one file, as with a presigned S3 URL; rotating the secret revokes every
link. Links are made only where ``TUNEFLEET_PUBLIC_URL`` (the API's address as browsers reach
it) is set. A signed-in caller may also open the files of the records it may see, unsigned.
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
import re

REPORT_FILES: dict[str, dict[str, str]] = {
    "benchmarks": {
        "heatmap.png": "report/heatmap.png",
        "cells.csv": "report/cells.csv",
        "summary.md": "report/summary.md",
    },
    "sweeps": {
        "parallel_coordinates.png": "parallel_coordinates.png",
        "report.html": "report.html",
        "report.csv": "report.csv",
        "report.json": "report.json",
        "pareto.png": "pareto.png",  # a sweep of several objectives
    },
    "experiments": {"best_so_far.png": "best_so_far.png", "pareto.png": "pareto.png"},
}
"""For each kind of record, the names of its report files and where each lies under the
record's folder in the store (``{kind}/{record}/...``). Only these are ever served."""

MEDIA_TYPES = {
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
}

_LINK_PURPOSE = b"tunefleet report link v1"
_SIGNATURE_HEX = 32  # 128 bits of HMAC-SHA256


def store_key(kind: str, record: int | str, name: str) -> str:
    """The store key of the report file ``name`` of record ``record`` of ``kind``."""
    return f"{kind}/{record}/{REPORT_FILES[kind][name]}"


def media_type(name: str) -> str:
    return MEDIA_TYPES[posixpath.splitext(name)[1]]


def path(kind: str, record: int | str, name: str) -> str:
    """The API path that serves the file."""
    return f"/artifacts/{kind}/{record}/{name}"


def signature(signing_key: str, file_path: str) -> str:
    link_key = hmac.new(signing_key.encode(), _LINK_PURPOSE, hashlib.sha256).digest()
    return hmac.new(link_key, file_path.encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_HEX]


def is_signed(signing_key: str, file_path: str, sig: str) -> bool:
    """Whether ``sig`` is the signature of ``file_path`` (compared in constant time; anything but
    ASCII is no signature: ``hmac.compare_digest`` refuses to compare it)."""
    return sig.isascii() and hmac.compare_digest(signature(signing_key, file_path), sig)


def link(public_url: str, signing_key: str, kind: str, record: int | str, name: str) -> str | None:
    """A signed URL of the file that a browser can open, or None without a public URL."""
    if not public_url:
        return None
    file_path = path(kind, record, name)
    return f"{public_url.rstrip('/')}{file_path}?sig={signature(signing_key, file_path)}"


def artifact_key(prefix: str, name: str) -> str:
    """A Prefect artifact key (lowercase letters, digits and dashes) for every run of the same
    thing: ``benchmark-{model}``, ``sweep-{project}``, ``bo-{experiment}``, so the UI's history by
    key lists them together."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80].strip("-") or "unnamed"
    return f"{prefix}-{slug}"


def compact(point: dict) -> str:
    """``x1=0.1235, kind=rbf``: a point as people read it (in logs, names and summaries)."""
    return ", ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                     for name, value in point.items())  # fmt: skip
