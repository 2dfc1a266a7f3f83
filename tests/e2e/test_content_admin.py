"""/content reload, get and put: good edits go live, broken edits never reach members."""

from __future__ import annotations

import asyncio
import gc
import importlib
import weakref
from pathlib import Path
from typing import Any

import pytest

from bot.domain import content_edit
from bot.domain.content import ContentStore
from bot.domain.search import Library
from tests.e2e.conftest import BotRunner, Server
from tests.fakediscord import FakeDiscord, Interaction, Member, Message, Permissions, Upload

CONCEPT_FILE = Path("concepts/goodharts-law.yaml")
TITLE = "title: Goodhart's law"
CHANGED_SINCE = "concepts/goodharts-law.yaml changed since you uploaded your version; get it again and redo the edit."


def button_id(message: Message, label: str) -> str:
    """Return the custom_id of the button labelled `label`."""
    for row in message.components:
        for component in row.get("components", []):
            if component.get("label") == label:
                return str(component["custom_id"])
    raise AssertionError(f"no button {label!r} in {message.components}")


async def put(fake: FakeDiscord, server: Server, filename: str, data: bytes, who: Member | None = None) -> Interaction:
    """Upload a file with /content put as the admin (or as `who`)."""
    return await fake.invoke(
        who or server.admin, "content put", {"file": Upload(filename, data)}, channel=server.general
    )


def second_content_admin(server: Server, runner: BotRunner) -> Member:
    """Add a second admin (Manage Server, listed in CONTENT_ADMINS) besides the owner."""
    carol = server.guild.add_member("carol", permissions=Permissions.MANAGE_GUILD)
    runner.settings_overrides["content_admins"] = frozenset({carol.id})
    return carol


async def save_outcome(fake: FakeDiscord, preview: Message, click: Interaction) -> str:
    """Wait for what a "Save and reload" click ends in: the preview edited to "Saved …", or a follow-up sentence."""

    def settled() -> str | None:
        if click.followups:
            return click.followups[0].content
        content = fake.world.messages[preview.id].content
        return content if content.startswith("Saved") else None

    return await fake.changed.wait_for(settled, 5.0, "the outcome of Save and reload")


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
    concepts = len(list((content_dir / "concepts").glob("*.yaml")))
    assert reply.content.startswith(f"Reloaded: {concepts} concepts")
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
    assert reply.embeds[0]["color"] == 0xE74C3C  # the error tone
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


async def test_concurrent_saves_of_one_file_keep_exactly_one(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """Two admins saving different edits of one file at once: one is saved, the other is told the file changed."""
    carol = second_content_admin(server, runner)
    await runner.start()
    path = content_dir / CONCEPT_FILE
    # A few rounds, because without the lock the two writes only overlap most of the time, not every time.
    for round_ in range(3):
        before = path.read_text()
        edits = {who: before.replace(TITLE, f"{TITLE}, round {round_} by {who.name}") for who in (server.admin, carol)}
        previews = {
            who: await (await put(fake, server, "goodharts-law.yaml", text.encode(), who)).reply()
            for who, text in edits.items()
        }
        # Both clicks are dispatched before either is answered, so their handlers run at the same time.
        clicks = {
            who: await fake.click(who, previews[who], button_id(previews[who], "Save and reload")) for who in edits
        }
        outcomes = {who: await save_outcome(fake, previews[who], click) for who, click in clicks.items()}

        winners = [who for who, outcome in outcomes.items() if outcome.startswith("Saved")]
        assert len(winners) == 1, outcomes
        [loser] = [who for who in edits if who not in winners]
        assert outcomes[loser] == CHANGED_SINCE
        assert clicks[loser].followups[0].flags & 64  # ephemeral
        assert path.read_text() == edits[winners[0]]
        assert (content_dir / "concepts" / "goodharts-law.yaml.bak").read_text() == before


async def test_second_save_after_the_first_is_told_the_file_changed(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """An admin saving an edit of a file another admin has saved since gets the sentence, and no dead buttons."""
    carol = second_content_admin(server, runner)
    await runner.start()
    path = content_dir / CONCEPT_FILE
    original = path.read_text()
    alice_text = original.replace(TITLE, f"{TITLE}, as Alice has it")
    alice = await (await put(fake, server, "goodharts-law.yaml", alice_text.encode())).reply()
    carol_text = original.replace(TITLE, f"{TITLE}, as Carol has it")
    carol_preview = await (await put(fake, server, "goodharts-law.yaml", carol_text.encode(), carol)).reply()

    first = await fake.click(server.admin, alice, button_id(alice, "Save and reload"))
    assert (await save_outcome(fake, alice, first)).startswith("Saved")
    second = await fake.click(carol, carol_preview, button_id(carol_preview, "Save and reload"))
    assert await save_outcome(fake, carol_preview, second) == CHANGED_SINCE
    await fake.changed.wait_for(lambda: not fake.world.messages[carol_preview.id].components, 5.0, "buttons removed")
    assert path.read_text() == alice_text


async def test_save_checks_the_folder_again_and_writes_nothing_if_it_broke_meanwhile(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """If another file broke on disk between the upload and the save, the save says so and writes nothing."""
    await runner.start()
    path = content_dir / CONCEPT_FILE
    original = path.read_text()
    edited = original.replace(TITLE, f"{TITLE}, edited")
    preview = await (await put(fake, server, "goodharts-law.yaml", edited.encode())).reply()
    (content_dir / "readings.yaml").write_text("readings: [\n", encoding="utf-8")  # broken by hand meanwhile
    click = await fake.click(server.admin, preview, button_id(preview, "Save and reload"))
    outcome = await save_outcome(fake, preview, click)
    assert outcome.startswith("The content has 1 error(s), so nothing was changed.") and "readings.yaml" in outcome
    assert path.read_text() == original
    assert not (content_dir / (CONCEPT_FILE.as_posix() + ".bak")).exists()


async def test_deleting_required_files_is_refused_and_members_keep_readings_and_tour(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """With readings.yaml and outline.yaml deleted, reload lists both and members still get readings and the tour."""
    await runner.start()
    (content_dir / "readings.yaml").unlink()
    (content_dir / "outline.yaml").unlink()
    handle = await fake.invoke(server.admin, "content reload", channel=server.general)
    errors = (await handle.reply()).embeds[0]["description"]
    assert "content/readings.yaml: is missing; every concept's readings are listed there" in errors
    assert "content/outline.yaml: is missing" in errors

    readings = await (
        await fake.invoke(server.member, "reading", {"concept": "goodharts-law"}, channel=server.general)
    ).reply()
    assert "https://" in readings.embeds[0]["description"]
    tour = await (await fake.invoke(server.member, "tour", channel=server.general)).reply()
    assert "Page 1 of" in tour.text


async def test_put_with_a_very_long_file_name_shows_the_errors(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """A valid YAML file under a 246-character name that fails validation gets the error embed, its title cut to fit."""
    await runner.start()
    name = "a-" * 120 + "b.yaml"
    handle = await put(fake, server, name, (content_dir / CONCEPT_FILE).read_bytes())
    reply = await handle.reply()
    embed = reply.embeds[0]
    assert len(embed["title"]) <= 256 and embed["title"].startswith("a-a-")
    assert "id: must match the file name" in embed["description"]
    assert not (content_dir / "concepts" / name).exists()


async def test_oversized_upload_is_refused_before_downloading(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """An attachment over 256 KiB is refused with a sentence from its declared size; the file is never downloaded."""
    await runner.start()
    handle = await put(fake, server, "goodharts-law.yaml", b"# padding\n" * 30_000)
    reply = await handle.reply()
    assert handle.ephemeral
    assert not [r for r in fake.requests if r.method == "GET" and r.path.startswith("/attachments/")]
    assert reply.content.endswith("KiB; content files may be at most 256 KiB.")

    # The same check sees a normal upload's download, so the absence above means something.
    await (await put(fake, server, "goodharts-law.yaml", (content_dir / CONCEPT_FILE).read_bytes())).reply()
    assert [r for r in fake.requests if r.method == "GET" and r.path.startswith("/attachments/")]


def on_event_loop() -> bool:
    """Whether the caller runs on an event loop's thread (where slow work stalls every member's command)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def test_put_and_save_load_and_index_off_the_event_loop(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validating an upload, and saving it, read and index the content in worker threads, never on the loop."""
    await runner.start()
    calls: list[tuple[str, bool]] = []
    real_build = Library.build
    real_load = content_edit.load_content

    def recording_build(cls: type[Library], store: ContentStore) -> Library:
        calls.append(("build", on_event_loop()))
        return real_build(store)

    def recording_load(directory: Path) -> Any:
        calls.append(("load", on_event_loop()))
        return real_load(directory)

    monkeypatch.setattr(Library, "build", classmethod(recording_build))
    monkeypatch.setattr(content_edit, "load_content", recording_load)
    # The running bot's module: stopping a bot unloads its extensions, so each start imports them afresh.
    monkeypatch.setattr(importlib.import_module("bot.exts.content_admin.commands"), "load_content", recording_load)

    path = content_dir / CONCEPT_FILE
    edited = path.read_text().replace(TITLE, f"{TITLE}, threaded")
    preview = await (await put(fake, server, "goodharts-law.yaml", edited.encode())).reply()
    assert calls == [("load", False)]  # the preview validated the folder with the upload, in a thread
    click = await fake.click(server.admin, preview, button_id(preview, "Save and reload"))
    assert (await save_outcome(fake, preview, click)).startswith("Saved")
    # The save validated again, then re-read the folder and built the new library, all in threads.
    assert calls == [("load", False), ("load", False), ("load", False), ("build", False)]


async def test_reload_lets_go_of_the_old_library_without_breaking_a_lookup_in_flight(
    fake: FakeDiscord, server: Server, runner: BotRunner, content_dir: Path
) -> None:
    """A lookup holding the old library still searches after a reload; once it lets go, nothing keeps the old one."""
    bot = await runner.start()
    held = bot.library  # as a command that took the library just before the swap
    old_index = weakref.ref(held.index)
    reply = await (await fake.invoke(server.admin, "content reload", channel=server.general)).reply()
    assert reply.content.startswith("Reloaded") and bot.library is not held
    assert held.index.search("goodhart")  # not closed under the lookup
    del held
    gc.collect()
    assert old_index() is None  # released, and with it its in-memory database
