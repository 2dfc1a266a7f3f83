"""Concept commands through the fake Discord: autocomplete, lookups, browsing, the tour, search, sharing."""

from __future__ import annotations

from tests.e2e.conftest import BotRunner, Server
from tests.fakediscord import FakeDiscord, Message


def embed_title(message: Message) -> str:
    """Return the first embed's title."""
    return str(message.embeds[0]["title"])


async def test_autocomplete_is_typo_tolerant_and_capped(fake: FakeDiscord, server: Server, bot: object) -> None:
    """Autocomplete finds a concept despite typos and case, lists titles once, and never returns over 25."""
    choices = await fake.autocomplete(server.member, "concept", focused="name", value="GOODHAT")
    assert choices[0] == {"name": "Goodhart's law", "value": "goodharts-law"}
    assert len({c["value"] for c in choices}) == len(choices)
    everything = await fake.autocomplete(server.member, "concept", focused="name", value="")
    assert len(everything) == 25


async def test_concept_hit_is_private_with_a_share_button(fake: FakeDiscord, server: Server, bot: object) -> None:
    """/concept answers privately with summary, key points, example and readings, plus a Share button."""
    handle = await fake.invoke(server.member, "concept", {"name": "reward hacking"}, channel=server.general)
    reply = await handle.reply()
    assert handle.ephemeral
    assert embed_title(reply) == "Reward hacking and specification gaming"
    fields = [field["name"] for field in reply.embeds[0]["fields"]]
    assert fields[:2] == ["Key points", "Example"] and "Read more" in fields
    assert "align:share:concept:reward-hacking" in reply.custom_ids


async def test_share_posts_the_same_card_publicly(fake: FakeDiscord, server: Server, bot: object) -> None:
    """Clicking Share posts the concept's embed in the channel for everyone, credited to the sharer."""
    handle = await fake.invoke(server.member, "concept", {"name": "goodharts-law"}, channel=server.general)
    private = await handle.reply()
    share = await fake.click(server.member, private, "align:share:concept:goodharts-law")
    public = await share.reply()
    assert not share.ephemeral
    assert public.embeds[0]["title"] == private.embeds[0]["title"]
    assert public.embeds[0]["author"]["name"] == f"Shared by {server.member.name}"
    assert public in fake.messages_in(server.general)


async def test_concept_miss_suggests_close_names(fake: FakeDiscord, server: Server, bot: object) -> None:
    """An unknown name gets a private "did you mean" with the closest titles."""
    handle = await fake.invoke(server.member, "concept", {"name": "goodhat law"}, channel=server.general)
    reply = await handle.reply()
    assert handle.ephemeral
    assert reply.content.startswith("I don't know a concept called 'goodhat law'. Did you mean **Goodhart's law**")


async def test_concepts_by_step_opens_one_from_the_menu(fake: FakeDiscord, server: Server, bot: object) -> None:
    """/concepts step: lists that step's concepts; picking one from the menu shows it."""
    listing = await (await fake.invoke(server.member, "concepts", {"step": "specify"}, channel=server.general)).reply()
    assert "King Midas" in listing.text
    opened = await fake.select(server.member, listing, "align:open:concept", ["king-midas"])
    reply = await opened.reply()
    assert opened.ephemeral
    assert "Midas" in embed_title(reply)


async def test_concepts_overview_and_unknown_step(fake: FakeDiscord, server: Server, bot: object) -> None:
    """Without a step, /concepts lists all six steps; an unknown step is refused with the valid ids."""
    overview = await (await fake.invoke(server.member, "concepts", channel=server.general)).reply()
    assert overview.text.count("concepts") >= 6
    wrong = await (await fake.invoke(server.member, "concepts", {"step": "nope"}, channel=server.general)).reply()
    assert "There is no step called 'nope'" in wrong.content and "specify" in wrong.content


async def test_reading_filters_by_concept_and_level(fake: FakeDiscord, server: Server, bot: object) -> None:
    """/reading lists links for a concept, and a level filter keeps only that level."""
    reply = await (
        await fake.invoke(server.member, "reading", {"concept": "goodharts-law"}, channel=server.general)
    ).reply()
    assert "Readings for Goodhart's law" in embed_title(reply)
    assert "https://" in reply.embeds[0]["description"]
    intro = await (await fake.invoke(server.member, "reading", {"level": "intro"}, channel=server.general)).reply()
    assert "(intro)" in embed_title(intro)
    assert ", technical" not in intro.embeds[0]["description"]


async def test_search_ranks_and_opens_results(fake: FakeDiscord, server: Server, bot: object) -> None:
    """/search finds concepts by words in their text and offers a menu to open them."""
    reply = await (await fake.invoke(server.member, "search", {"query": "paperclips"}, channel=server.general)).reply()
    assert "literal" in reply.text.casefold() or "genie" in reply.text.casefold()
    assert "align:open:concept" in reply.custom_ids


async def test_tour_buttons_keep_working_across_a_restart(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """/tour pages forward and back with its buttons, including on a message sent before the bot restarted."""
    await runner.start()
    handle = await fake.invoke(server.member, "tour", channel=server.general)
    first = await handle.reply()
    assert "Page 1 of" in first.text
    assert "align:tour:prev:0" in first.custom_ids  # disabled on the first page
    await (await fake.click(server.member, first, "align:tour:next:1")).reply()
    message = handle.original_message
    assert message is not None and "Page 2 of" in message.text

    await runner.restart()

    await (await fake.click(server.member, message, "align:tour:next:2")).reply()
    message = handle.original_message
    assert message is not None and "Page 3 of" in message.text
    await (await fake.click(server.member, message, "align:tour:prev:1")).reply()
    message = handle.original_message
    assert message is not None and "Page 2 of" in message.text
