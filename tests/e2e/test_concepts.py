"""Concept commands through the fake Discord: autocomplete, lookups, browsing, the tour, search, sharing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.bot import AlignmentBot
from bot.domain.content import READING_LEVELS
from tests.e2e.conftest import BotRunner, Server
from tests.fakediscord import Channel, FakeDiscord, Member, Message, Permissions


def embed_title(message: Message) -> str:
    """Return the first embed's title."""
    return str(message.embeds[0]["title"])


async def private_concept(fake: FakeDiscord, who: Member, channel: Channel, name: str = "goodharts-law") -> Message:
    """Look a concept up as `who` in `channel` and return the private answer with its Share button."""
    return await (await fake.invoke(who, "concept", {"name": name}, channel=channel)).reply()


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


async def test_private_answers_leave_no_view_or_timer_behind(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """Lookups keep nothing alive once answered, and their buttons still work (dispatched by custom_id).

    discord.py would store a running view sent with a private answer and give it a 15-minute timer task.
    """
    lookup = await private_concept(fake, server.member, server.general)
    tour = await (await fake.invoke(server.member, "tour", channel=server.general)).reply()
    await (await fake.invoke(server.member, "search", {"query": "reward"}, channel=server.general)).reply()
    views = bot._connection._view_store
    assert lookup.id not in views._synced_message_views and tour.id not in views._synced_message_views
    assert not any(views._views.values())
    timers = [task for task in asyncio.all_tasks() if "View" in getattr(task.get_coro(), "__qualname__", "")]
    assert timers == []
    assert (await (await fake.click(server.member, tour, "align:tour:next:1")).reply()).embeds
    shared = await (await fake.click(server.member, lookup, "align:share:concept:goodharts-law")).reply()
    assert shared in fake.messages_in(server.general)


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


async def test_reading_offers_the_levels_the_content_defines(fake: FakeDiscord, bot: object) -> None:
    """/reading's level choices, as registered with Discord, are the content's reading levels in order."""
    [reading] = [c for c in fake.registered_commands() if c["name"] == "reading"]
    [level] = [o for o in reading["options"] if o["name"] == "level"]
    assert tuple(choice["value"] for choice in level["choices"]) == READING_LEVELS


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


async def test_share_is_refused_where_the_member_may_not_post(fake: FakeDiscord, server: Server, bot: object) -> None:
    """In a channel where the member lacks Send Messages, Share answers privately and posts nothing."""
    announcements = server.guild.add_text_channel("announcements")
    server.guild.set_overwrite(announcements, server.guild.everyone, deny=Permissions.SEND_MESSAGES)
    await fake.sync()
    private = await private_concept(fake, server.member, announcements)
    share = await fake.click(server.member, private, "align:share:concept:goodharts-law")
    refusal = await share.reply()
    assert share.ephemeral
    assert refusal.content.startswith("You can't share here: posting a card in this channel needs Send Messages")
    assert fake.messages_in(announcements) == []


async def test_share_in_a_thread_needs_send_messages_in_threads(fake: FakeDiscord, server: Server, bot: object) -> None:
    """In a thread only Send Messages in Threads counts: without it Share is refused, with it Share posts."""
    thread = server.guild.add_thread(server.general, "reading group")
    server.guild.set_overwrite(server.general, server.member, deny=Permissions.SEND_MESSAGES_IN_THREADS)
    await fake.sync()
    private = await private_concept(fake, server.member, thread)
    refused = await fake.click(server.member, private, "align:share:concept:goodharts-law")
    assert (await refused.reply()).content.startswith(
        "You can't share here: posting a card in this channel needs Send Messages in Threads"
    )
    assert refused.ephemeral and fake.messages_in(thread) == []

    # A read-only parent channel whose threads are open to the member: sharing in the thread works.
    server.guild.set_overwrite(
        server.general, server.member, deny=Permissions.SEND_MESSAGES, allow=Permissions.SEND_MESSAGES_IN_THREADS
    )
    await fake.sync()
    shared = await fake.click(server.member, private, "align:share:concept:goodharts-law")
    public = await shared.reply()
    assert not shared.ephemeral
    assert public in fake.messages_in(thread)


async def test_rapid_shares_post_one_card_until_the_cooldown_passes(
    fake: FakeDiscord, server: Server, runner: BotRunner, bot: object
) -> None:
    """Twenty quick Share clicks post one card and get nineteen private "slow down"s; after 30 s sharing works again."""
    private = await private_concept(fake, server.member, server.general)
    clicks = [await fake.click(server.member, private, "align:share:concept:goodharts-law") for _ in range(20)]
    replies = [await click.reply() for click in clicks]
    public = [reply for click, reply in zip(clicks, replies, strict=True) if not click.ephemeral]
    refused = [reply.content for click, reply in zip(clicks, replies, strict=True) if click.ephemeral]
    assert len(public) == 1 and fake.messages_in(server.general) == public
    assert len(refused) == 19
    assert all(text.startswith("Slow down a little: you can share another card in") for text in refused)

    await runner.clock.advance(timedelta(seconds=31))
    again = await fake.click(server.member, private, "align:share:concept:goodharts-law")
    await again.reply()
    assert not again.ephemeral
    assert len(fake.messages_in(server.general)) == 2


# Words people search for, and the concept each must open (issue 9): exact names, typed as members type them.
SEARCH_TERMS = {
    "wireheading": "reward-hacking",
    "terminal goals": "instrumental-convergence",
    "final goals": "instrumental-convergence",
    "Asimov's three laws": "literal-genie",
    "Asimov’s three laws": "literal-genie",  # a phone's curly apostrophe
    "teaching to the test": "goodharts-law",
    "paperclip maximizer": "literal-genie",
    "success conditional on insufficient intelligence": "compute-sensitive-heuristics",
}


async def test_every_search_term_opens_its_concept(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """Each term people search for opens the right card with /concept, not a "did you mean"."""
    for term, concept_id in SEARCH_TERMS.items():
        reply = await (await fake.invoke(server.member, "concept", {"name": term}, channel=server.general)).reply()
        assert reply.embeds, f"{term!r}: {reply.content}"
        assert reply.embeds[0]["title"] == bot.library.store.concepts[concept_id].title, term
