"""Editing the content folder safely: validate a changed file with the rest, then write it atomically."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.domain.content import SLUG_PATTERN, ContentStore
from bot.domain.content_loader import FILE_MODELS, load_content
from bot.domain.content_yaml import MAX_FILE_BYTES
from bot.domain.text import truncate
from bot.errors import UserFacingError

_CONCEPT_FILE = re.compile(SLUG_PATTERN.removesuffix("$") + r"\.ya?ml$")


class EditRejected(UserFacingError):
    """The proposed file cannot be used; the message says why in one sentence."""

    default_message = "That file cannot be used as a content file."


@dataclass(frozen=True, slots=True)
class StagedEdit:
    """A validated change to one content file, not yet written."""

    relative: str  # e.g. "concepts/goodharts-law.yaml"
    path: Path
    old_text: str | None  # None when the file is new
    new_text: str
    store: ContentStore  # the store as it will be after the change

    def diff(self, limit: int = 1800) -> str:
        """Return a unified diff of the change, truncated to `limit` characters."""
        lines = difflib.unified_diff(
            (self.old_text or "").splitlines(),
            self.new_text.splitlines(),
            fromfile=f"a/{self.relative}",
            tofile=f"b/{self.relative}",
            lineterm="",
            n=1,
        )
        return truncate("\n".join(lines), limit) or "(no changes)"


def content_file_names(store: ContentStore) -> list[str]:
    """Every file name `/content get` can return: each concept's file and the shared files."""
    return [f"concepts/{concept_id}.yaml" for concept_id in sorted(store.concepts)] + list(FILE_MODELS)


def resolve_target(directory: Path, name: str) -> tuple[str, Path]:
    """Map an uploaded file name (or a concept id) to its place in the content folder."""
    base = Path(name).name
    if base in FILE_MODELS:
        return base, directory / base
    if _CONCEPT_FILE.match(base):
        relative = f"concepts/{Path(base).stem}.yaml"
        return relative, directory / relative
    if re.match(SLUG_PATTERN, base):
        return f"concepts/{base}.yaml", directory / "concepts" / f"{base}.yaml"
    raise EditRejected(
        f"{truncate(base, 60)!r} is not a content file: name it after the concept (like goodharts-law.yaml) "
        f"or use one of {', '.join(FILE_MODELS)}."
    )


def check_upload_size(size: int) -> None:
    """Refuse an upload larger than a content file may be; called with the size Discord declares, before downloading."""
    if size > MAX_FILE_BYTES:
        kib = -(-size // 1024)  # rounded up, so a file just over the limit never reads as "256 KiB"
        raise EditRejected(f"That file is {kib:,} KiB; content files may be at most {MAX_FILE_BYTES // 1024} KiB.")


def decode_upload(data: bytes) -> str:
    """Check an uploaded file's size and encoding and return its text."""
    check_upload_size(len(data))  # the declared size is checked first; this guards against a lying declaration
    try:
        return data.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise EditRejected("That file is not UTF-8 text; save it as UTF-8 and try again.") from None


def stage_edit(directory: Path, name: str, text: str) -> StagedEdit:
    """Validate the folder as it would be with `text` at `name`; raise ContentInvalid listing every error."""
    relative, path = resolve_target(directory, name)
    old_text = path.read_text(encoding="utf-8") if path.exists() else None
    with tempfile.TemporaryDirectory() as scratch:
        # Same folder name, so error messages read content/..., as for the real folder.
        copy = Path(scratch) / directory.resolve().name
        shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("*.bak", "*.tmp"))
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        (copy / relative).write_text(text, encoding="utf-8")
        store = load_content(copy)
    return StagedEdit(relative, path, old_text, text, store)


def _digest(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


def apply_edit(edit: StagedEdit) -> Path | None:
    """Write the staged file atomically, keeping the previous version as `<file>.bak`; return the backup path.

    Refuses if the file changed on disk since the edit was staged, so two admins can't overwrite each other.
    """
    current = edit.path.read_text(encoding="utf-8") if edit.path.exists() else None
    if _digest(current) != _digest(edit.old_text):
        raise EditRejected(f"{edit.relative} changed since you uploaded your version; get it again and redo the edit.")
    edit.path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if current is not None:
        backup = edit.path.with_name(edit.path.name + ".bak")
        shutil.copy2(edit.path, backup)
    fd, tmp_name = tempfile.mkstemp(dir=edit.path.parent, prefix=f".{edit.path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(edit.new_text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, edit.path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return backup
