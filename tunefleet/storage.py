"""One artifact store over fsspec: a local folder by default, ``s3://bucket/prefix`` in production."""

from __future__ import annotations

import logging
import os
import posixpath
import uuid

import fsspec

from tunefleet.errors import InvalidInput, TooLarge

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
            tmp = f"{path}.tmp-{uuid.uuid4().hex}"  # its own per write: equal bytes written at once must not share one
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


MAX_URI = 2048
HEADER_LIMIT = 2**20  # the most bytes of a CSV's header line read through a URI

_UNREADABLE = "cannot read data_uri {uri!r}: there is no readable file at that URI in this service's data store"


def _unreadable(uri) -> ArtifactNotFound:
    """The one answer for a URI tunefleet will not or cannot read: it does not tell a file outside the
    allow-list from a missing or an unreadable one, and never shows what is there."""
    shown = uri if isinstance(uri, str) and len(uri) <= 200 else f"{str(uri)[:200]}..."
    return ArtifactNotFound(_UNREADABLE.format(uri=shown))


def data_location(uri, settings) -> str:
    """``uri`` as tunefleet reads it, if it names a file under one of the data roots (the artifact
    store, and ``TUNEFLEET_DATA_ROOTS``): ``s3://bucket/key`` under an s3 root, or a local path
    under a folder root once links and ``..`` are resolved. No other scheme, no chained fsspec URL
    (``::``), no query: ArtifactNotFound otherwise."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI or "::" in uri or any(ord(c) < 32 for c in uri):
        raise _unreadable(uri)
    scheme, sep, rest = uri.partition("://")
    if sep and scheme == "s3":
        if _s3_allowed(rest, settings.data_root_list):
            return uri
    elif not sep or scheme == "file":
        path = os.path.realpath(rest if sep else uri)
        if any(_under(path, root) for root in settings.data_root_list if "://" not in root):
            return path
    raise _unreadable(uri)


def _s3_allowed(rest: str, roots: list[str]) -> bool:
    bucket, _, key = rest.partition("/")
    parts = key.split("/")
    if not bucket or any(part in ("", ".", "..") for part in parts) or any(c in rest for c in "?#\\"):
        return False
    for root in roots:
        if root.startswith("s3://"):
            root_bucket, _, prefix = root[len("s3://") :].partition("/")
            prefix_parts = [part for part in prefix.split("/") if part]
            if root_bucket == bucket and parts[: len(prefix_parts)] == prefix_parts and len(parts) > len(prefix_parts):
                return True
    return False


def _under(path: str, root: str) -> bool:
    root = os.path.realpath(root)
    return path != root and os.path.commonpath([path, root]) == root


def _opened(uri: str, settings, max_bytes: int):
    """The file system and path of an allowed ``uri``, once its size is known to be at most ``max_bytes``."""
    location = data_location(uri, settings)
    try:
        fs, path = fsspec.core.url_to_fs(location, **settings.storage_options(location))
        size = fs.size(path)
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError):
        raise _unreadable(uri) from None
    if size is None or size > max_bytes:
        raise TooLarge(
            f"data_uri {uri!r} holds {size} bytes, more than {max_bytes / 2**20:g} MiB (TUNEFLEET_MAX_DATA_MB)"
        )
    return fs, path


def read_data(uri: str, settings) -> bytes:
    """The bytes of the data file at ``uri`` (see ``data_location``), at most TUNEFLEET_MAX_DATA_MB."""
    fs, path = _opened(uri, settings, int(settings.max_data_mb * 2**20))
    try:
        return fs.cat_file(path)
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError):
        raise _unreadable(uri) from None


def read_header(uri: str, settings) -> str:
    """The first line of the CSV at ``uri``, read no further than HEADER_LIMIT bytes."""
    fs, path = _opened(uri, settings, int(settings.max_data_mb * 2**20))
    head = b""
    try:
        with fs.open(path, "rb") as handle:  # s3fs files have no readline(size): read in blocks
            while b"\n" not in head and len(head) < HEADER_LIMIT and (block := handle.read(2**16)):
                head += block
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError):
        raise _unreadable(uri) from None
    line, newline, _ = head.partition(b"\n")
    if not newline and len(head) >= HEADER_LIMIT:
        raise TooLarge(f"the header line of data_uri {uri!r} is longer than {HEADER_LIMIT // 2**10} KiB")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"data_uri {uri!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
