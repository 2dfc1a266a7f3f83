"""Whether the content folder can take an edit: `/content put` asks before its preview, and again before saving.

An edit written into a folder baked into the Docker image would vanish with the next image, and a read-only folder
would fail half-way; either is refused with one sentence saying where content lives and how to mount it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bot.errors import UserFacingError

PROBE_PREFIX = ".write-probe-"


def probe_writable(directory: Path) -> str | None:
    """Create and delete a file in `directory`; return why that failed, or None when the folder can be written.

    Actually writing, because `os.access` reads permission bits only: root passes it on a folder it may not write
    in the end, and ACLs or a read-only mount are not counted.
    """
    try:
        handle, name = tempfile.mkstemp(dir=directory, prefix=PROBE_PREFIX, suffix=".tmp")
    except OSError as error:
        return (error.strerror or type(error).__name__).lower()
    os.close(handle)
    try:
        os.unlink(name)
    except OSError as error:  # created but not removable (e.g. a sticky folder): an edit's backup would fail too
        return (error.strerror or type(error).__name__).lower()
    return None


def edit_folder(content_dir: Path, target: Path) -> Path:
    """Return the folder an edit of `target` writes in (its own, or the content folder while that does not exist)."""
    return target.parent if target.parent.is_dir() else content_dir


HOW_TO_MOUNT = (
    "mount a writable folder at CONTENT_DIR (with Docker, `-v ./content:/app/content`) to edit content from Discord "
    "and keep the edits across upgrades."
)


class ContentFolderReadOnly(UserFacingError):
    """The content folder cannot be written here, so an edit would be lost or fail; says how to fix it."""

    default_message = f"The content folder can't be written here, so edits from Discord can't be saved: {HOW_TO_MOUNT}"

    def __init__(self, content_dir: Path | None = None, reason: str | None = None) -> None:
        message = None
        if content_dir is not None:
            because = f" ({reason})" if reason else ""
            message = (
                f"The content folder {content_dir} can't be written here{because}, so edits from Discord can't be "
                f"saved: {HOW_TO_MOUNT}"
            )
        super().__init__(message)
