"""/content put on a content folder that cannot be written (read-only, or baked into the image): one sentence, no edit.

The real probe writes a file, so a folder is made unwritable for real where the test can: by its mode when not
root, or by the immutable attribute when root (root ignores modes). The tests that need a read-only folder at an
exact moment replace the cog's probe instead.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.content_folder import PROBE_PREFIX, probe_writable
from tests.e2e.conftest import BotRunner, Server
from tests.e2e.test_content_admin import CONCEPT_FILE, button_id, put, save_outcome
from tests.fakediscord import FakeDiscord

SENTENCE_START = "The content folder {folder} can't be written here ("
SENTENCE_END = (
    "), so edits from Discord can't be saved: mount a writable folder at CONTENT_DIR (with Docker, "
    "`-v ./content:/app/content`) to edit content from Discord and keep the edits across upgrades."
)


def set_immutable(folders: list[Path], on: bool) -> bool:
    """Set or clear the immutable attribute of folders (root cannot create files in them); False if unsupported."""
    flag = "+i" if on else "-i"
    try:
        done = subprocess.run(["chattr", flag, *map(str, folders)], capture_output=True, check=False)  # noqa: S607
    except FileNotFoundError:
        return False
    return done.returncode == 0


@pytest.fixture
def unwritable(content_dir: Path) -> Iterator[Path]:
    """Make the content folder and its concepts folder unwritable for this process, for real; restore after."""
    folders = [content_dir, content_dir / "concepts"]
    if os.geteuid() != 0:
        for folder in folders:
            folder.chmod(0o555)
        yield content_dir
        for folder in folders:
            folder.chmod(0o755)
        return
    if not set_immutable(folders, on=True):
        pytest.skip("running as root without chattr +i here: no way to make a folder unwritable for real")
    try:
        yield content_dir
    finally:
        set_immutable(folders, on=False)


def content_cog(runner: BotRunner) -> Any:
    """Return the ContentAdmin cog (untyped: load_extension executes the module afresh)."""
    assert runner.bot is not None
    return runner.bot.get_cog("ContentAdmin")


def edited(content_dir: Path) -> tuple[str, bytes]:
    """Return a concept file's text now, and a valid edit of it."""
    original = (content_dir / CONCEPT_FILE).read_text()
    return original, original.replace("title: Goodhart's law", "title: Goodhart's law, revised").encode()


async def test_put_into_an_unwritable_folder_is_refused_before_the_preview(
    fake: FakeDiscord, server: Server, runner: BotRunner, unwritable: Path
) -> None:
    """The real probe finds the folder unwritable: one private sentence naming it and CONTENT_DIR; nothing written."""
    await runner.start()
    original, edit = edited(unwritable)
    handle = await put(fake, server, "goodharts-law.yaml", edit)
    reply = await handle.reply()
    assert handle.ephemeral
    assert reply.content.startswith(SENTENCE_START.format(folder=unwritable)) and reply.content.endswith(SENTENCE_END)
    assert reply.embeds == [] and reply.components == []
    assert (unwritable / CONCEPT_FILE).read_text() == original
    assert not list(unwritable.rglob(f"{PROBE_PREFIX}*"))


async def test_a_folder_made_read_only_after_the_preview_refuses_the_save(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """Saving checks again: a folder that turned read-only (a remount) since the preview refuses, writing nothing."""
    await runner.start()
    original, edit = edited(content_dir)
    preview = await (await put(fake, server, "goodharts-law.yaml", edit)).reply()
    assert preview.embeds, preview.content  # the writable folder got its preview
    content_cog(runner).probe_writable = lambda folder: "read-only file system"
    click = await fake.click(server.admin, preview, button_id(preview, "Save and reload"))
    outcome = await save_outcome(fake, preview, click)
    assert outcome == SENTENCE_START.format(folder=content_dir) + "read-only file system" + SENTENCE_END
    assert (content_dir / CONCEPT_FILE).read_text() == original
    assert not (content_dir / "concepts" / "goodharts-law.yaml.bak").exists()


async def test_the_probe_is_asked_about_the_folder_the_edit_writes_in(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """A concept's edit is checked in concepts/, a shared file's in the content folder itself."""
    await runner.start()
    asked: list[Path] = []

    def refuse(folder: Path) -> str:
        asked.append(folder)
        return "permission denied"

    content_cog(runner).probe_writable = refuse
    _, edit = edited(content_dir)
    await (await put(fake, server, "goodharts-law.yaml", edit)).reply()
    await (await put(fake, server, "readings.yaml", (content_dir / "readings.yaml").read_bytes())).reply()
    assert asked == [content_dir / "concepts", content_dir]


def test_the_real_probe_leaves_nothing_behind_in_a_writable_folder(tmp_path: Path) -> None:
    """A writable folder passes, and the probe's file is gone again."""
    assert probe_writable(tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_the_real_probe_refuses_a_folder_the_system_refuses_even_to_root() -> None:
    """/proc takes no new files from anyone, root included: the probe reports the system's reason."""
    reason = probe_writable(Path("/proc"))
    assert reason is not None and reason
