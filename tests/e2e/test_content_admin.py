"""/content reload, get and put: good edits go live, broken edits never reach members."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import CONTENT, BotRunner, Server
from tests.fakediscord import FakeDiscord, Interaction, Message, Permissions, Upload

CONCEPT_FILE = Path("concepts/goodharts-law.yaml")


@pytest.fixture
def content_dir(tmp_path: Path, runner: BotRunner, fake: FakeDiscord, server: Server) -> Path:
    """Give the bot its own copy of the content, and make the admin the application's owner."""
    directory = tmp_path / "content"
    shutil.copytree(CONTENT, directory)
    runner.content_dir = directory
    fake.application_owner = server.admin
    return directory


def button_id(message: Message, label: str) -> str:
    """Return the custom_id of the button labelled `label`."""
    for row in message.components:
        for component in row.get("components", []):
            if component.get("label") == label:
                return str(component["custom_id"])
    raise AssertionError(f"no button {label!r} in {message.components}")


async def put(fake: FakeDiscord, server: Server, filename: str, data: bytes) -> Interaction:
    """Upload a file with /content put as the admin."""
    return await fake.invoke(server.admin, "content put", {"file": Upload(filename, data)}, channel=server.general)


async def concept_title(fake: FakeDiscord, server: Server, name: str) -> str:
    """Look a concept up as a member and return the title they see."""
    reply = await (await fake.invoke(server.member, "concept", {"name": name}, channel=server.general)).reply()
    return str(reply.embeds[0]["title"]) if reply.embeds else reply.content


async def test_reload_applies_a_good_edit(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """After a valid edit on disk, /content reload makes members see the new text."""
    await runner.start()
    path = content_dir / CONCEPT_FILE
    path.write_text(path.read_text().replace("title: Goodhart's law", "title: Goodhart's law (edited)"))
    reply = await (await fake.invoke(server.admin, "content reload", channel=server.general)).reply()
    assert reply.content.startswith("Reloaded: 34 concepts")
    assert await concept_title(fake, server, "goodharts-law") == "Goodhart's law (edited)"


async def test_broken_edit_never_reaches_members(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """A broken file on disk: reload shows the admin every error and members keep the last good content."""
    await runner.start()
    path = content_dir / CONCEPT_FILE
    path.write_text(path.read_text().replace("title: Goodhart's law", "title: Broken\nsumary: typo"))
    handle = await fake.invoke(server.admin, "content reload", channel=server.general)
    reply = await handle.reply()
    assert handle.ephemeral
    assert "content/concepts/goodharts-law.yaml" in reply.embeds[0]["description"]
    assert "sumary: is not a known field" in reply.embeds[0]["description"]
    assert await concept_title(fake, server, "goodharts-law") == "Goodhart's law"


async def test_content_commands_are_for_owners_and_content_admins(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """A server admin who is not a content admin is refused; a user listed in CONTENT_ADMINS is allowed."""
    moderator = server.guild.add_member("mod", permissions=Permissions.MANAGE_GUILD)  # not a content admin
    runner.settings_overrides["content_admins"] = frozenset({server.member.id})
    await runner.start()
    refused = await (await fake.invoke(moderator, "content reload", channel=server.general)).reply()
    assert refused.content.startswith("Only the bot's owners and the content admins")
    allowed = await fake.invoke(server.member, "content reload", channel=server.general, check_permissions=False)
    assert (await allowed.reply()).content.startswith("Reloaded")


async def test_get_returns_the_file(fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path) -> None:
    """/content get sends the concept's YAML file as a private attachment."""
    await runner.start()
    handle = await fake.invoke(server.admin, "content get", {"file": "goodharts-law"}, channel=server.general)
    reply = await handle.reply()
    assert handle.ephemeral
    assert reply.attachments[0].filename == "goodharts-law.yaml"
    assert reply.attachments[0].data == (content_dir / CONCEPT_FILE).read_bytes()


async def test_put_shows_the_change_then_saves_with_a_backup(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """/content put validates the upload, shows a diff, and on confirmation writes it, keeps a backup and reloads."""
    await runner.start()
    path = content_dir / CONCEPT_FILE
    original = path.read_text()
    edited = original.replace("title: Goodhart's law", "title: Goodhart's law, revised")
    handle = await put(fake, server, "goodharts-law.yaml", edited.encode())
    preview = await handle.reply()
    assert "+title: Goodhart's law, revised" in preview.embeds[0]["description"]
    assert path.read_text() == original  # nothing written before confirmation

    confirm = await fake.click(server.admin, preview, button_id(preview, "Save and reload"))
    await confirm.response()
    done = await fake.wait_for_message(server.general, lambda m: "Saved" in m.content, include_ephemeral=True)
    assert "concepts/goodharts-law.yaml" in done.content
    assert path.read_text() == edited
    assert (content_dir / "concepts" / "goodharts-law.yaml.bak").read_text() == original
    assert await concept_title(fake, server, "goodharts-law") == "Goodhart's law, revised"


async def test_put_rejects_a_broken_file_and_writes_nothing(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """A broken upload gets its errors listed; the file on disk and what members see stay unchanged."""
    await runner.start()
    path = content_dir / CONCEPT_FILE
    original = path.read_text()
    broken = original.replace("related: [", "related: [no-such-concept, ")
    handle = await put(fake, server, "goodharts-law.yaml", broken.encode())
    reply = await handle.reply()
    assert "no concept has the id 'no-such-concept'" in reply.embeds[0]["description"]
    assert reply.components == []
    assert path.read_text() == original


async def test_put_rejects_an_unknown_file_name(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """An upload that is not named like a content file is refused with a sentence."""
    await runner.start()
    handle = await put(fake, server, "Notes (final).txt", b"hello")
    reply = await handle.reply()
    assert "is not a content file" in reply.content
