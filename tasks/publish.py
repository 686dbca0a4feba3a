"""What every report publisher shares: a record's report files shown in the Prefect UI.

Where the operator set ``TUNEFLEET_PUBLIC_URL``, each PNG becomes an image artifact and each HTML
page a link artifact, at the signed URLs of ``tunefleet.reports``, and the summary's markdown shows
the images inline and links the other files. Otherwise the summary names the files' store URIs
and says which setting would show them.
"""

from __future__ import annotations

import posixpath

from prefect.artifacts import create_image_artifact, create_link_artifact

from blocks.context import current_settings
from tunefleet import auth, reports

NO_PUBLIC_URL = "_Set `TUNEFLEET_PUBLIC_URL` to the API's address (as browsers reach it) to see these here._"


def report_files(kind: str, record: int | str, uris: dict[str, str], key: str, title: str) -> str:
    """Publish the report files ``uris`` (report name → store URI) of a record and answer the
    markdown that shows them. ``key`` is the record's stable artifact key; ``title`` says whose
    files they are in the artifacts' descriptions."""
    settings = current_settings()
    if not settings.public_url:
        return "\n".join([*(f"- {name}: `{uri}`" for name, uri in uris.items()), "", NO_PUBLIC_URL])
    signing_key = auth.signing_key(settings)
    shown = []
    for name in uris:
        url = reports.link(settings.public_url, signing_key, kind, record, name)
        stem, extension = posixpath.splitext(name)
        artifact_key = reports.artifact_key(key, stem)
        if extension == ".png":
            create_image_artifact(image_url=url, key=artifact_key, description=f"{title}: {stem.replace('_', ' ')}")
            shown.append(f"![{stem}]({url})")
        else:
            if extension == ".html":
                create_link_artifact(url, link_text=f"{title}: {name}", key=artifact_key, description=title)
            shown.append(f"- [{name}]({url})")
    return "\n\n".join(shown)
