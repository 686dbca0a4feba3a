"""One artifact store over fsspec: a local folder by default, ``s3://bucket/prefix`` in production."""

from __future__ import annotations

import hashlib
import logging
import posixpath

import fsspec

from tunefleet.errors import InvalidInput

log = logging.getLogger(__name__)


class ArtifactNotFound(InvalidInput):
    """Nothing at a URI: a dataset a request names, or an artifact a record points at."""


class ArtifactStore:
    def __init__(self, root: str, **storage_options):
        self.fs, path = fsspec.core.url_to_fs(root, **storage_options)
        self.protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        self.root = path.rstrip("/")
        if self.protocol in ("file", "local"):
            self.fs.makedirs(self.root, exist_ok=True)

    @classmethod
    def from_settings(cls, settings) -> ArtifactStore:
        return cls(settings.artifacts, **settings.storage_options())

    def uri(self, key: str) -> str:
        path = posixpath.join(self.root, key)
        return path if self.protocol in ("file", "local") else f"{self.protocol}://{path}"

    def put_bytes(self, key: str, data: bytes) -> str:
        """Write ``data`` at ``key`` atomically where the backend allows; return its URI."""
        uri = self.uri(key)
        path = self.fs._strip_protocol(uri)
        parent = posixpath.dirname(path)
        if self.protocol in ("file", "local"):
            self.fs.makedirs(parent, exist_ok=True)
            tmp = f"{path}.tmp-{hashlib.sha1(data).hexdigest()[:8]}"
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, path)
        else:  # an S3 PUT is atomic by itself
            self.fs.pipe_file(path, data)
        log.debug("stored %d bytes at %s", len(data), uri)
        return uri

    def get_bytes(self, uri: str) -> bytes:
        try:
            return self.fs.cat_file(self.fs._strip_protocol(uri))
        except FileNotFoundError as exc:
            raise ArtifactNotFound(f"no artifact at {uri}") from exc

    def exists(self, uri: str) -> bool:
        return self.fs.exists(self.fs._strip_protocol(uri))


def open_uri(uri: str, settings, mode: str = "rb"):
    """Open a dataset given by URI: a local path, ``file://`` or ``s3://`` (with the store's S3 options)."""
    try:
        return fsspec.open(uri, mode, **settings.storage_options(uri)).open()
    except FileNotFoundError as exc:
        raise ArtifactNotFound(f"no file at {uri}") from exc
