"""Self-tests: a bare discord.py client against the fake proves the fake behaves like Discord."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from tests.fakediscord import (
    CommandNotRegistered,
    FakeDiscord,
    Permissions,
    Upload,
    connected_client,
    running_fake,
    validate_message,
)

from .conftest import Env, build_bot


async def test_ready_with_guild_cached(env: Env) -> None:
    """The client becomes ready with the guild, its channels and its own member cached."""
    guild = env.client.get_guild(env.guild.id)
    assert guild is not None and guild.name == "Alignment Reading Group"
    assert guild.me is not None and guild.me.id == env.fake.bot_user.id
    assert env.channel(env.general).name == "general"
    assert isinstance(env.channel(env.forum), discord.ForumChannel)
    assert env.client.application_id == env.fake.application_id
    assert env.fake.gateway.identify_count == 1
    await env.fake.wait_until_connected()


async def test_sync_stores_commands(env: Env) -> None:
    """tree.sync() is one bulk overwrite; the fake stores the commands with ids; guild sync is separate."""
    assert env.fake.sync_count == 1
    assert {"about", "pdoom", "slow", "concept", "feedback"} <= set(env.fake.command_names())
    assert all(c["id"] and c["version"] for c in env.fake.registered_commands())
    env.tree.copy_global_to(guild=discord.Object(env.guild.id))
    synced = await env.tree.sync(guild=discord.Object(env.guild.id))
    assert env.fake.sync_count == 2 and env.fake.command_syncs[-1].guild_id == env.guild.id
    assert {c.name for c in synced} == set(env.fake.command_names(env.guild))
    handle = await env.fake.invoke(env.bob, "about")
    assert handle.payload["data"]["guild_id"] == str(env.guild.id)
    assert (await handle.reply()).content.startswith("Alignment bot")


async def test_invoke_subcommand_with_options(env: Env) -> None:
    """A subcommand with typed options reaches the bot and its embed reply is recorded."""
    handle = await env.fake.invoke(env.alice, "pdoom open", {"question": "P(doom) by 2040?", "hours": 3})
    reply = await handle.reply()
    assert reply.embeds[0]["title"] == "P(doom) by 2040?"
    assert "closes in 3h" in reply.text
    assert reply.interaction_metadata is not None and reply.author.id == env.fake.bot_user.id
    assert reply in env.fake.messages_in(env.general)
    with pytest.raises(CommandNotRegistered):
        await env.fake.invoke(env.alice, "pdoom close")


async def test_deferred_then_followups(env: Env) -> None:
    """A thinking defer is answered by the first follow-up replacing it; later ones are new messages."""
    handle = await env.fake.invoke(env.bob, "slow")
    assert (await handle.response()).type == 5
    assert (await handle.reply()).content == "done thinking"
    followups = await handle.wait_followups(2)
    assert [m.content for m in followups] == ["done thinking", "and one more thing"]
    assert followups[0].id == handle.original_message_id and not followups[0].loading


async def test_ephemeral_response(env: Env) -> None:
    """An ephemeral response is flagged, visible only to the invoker, and not in the channel."""
    handle = await env.fake.invoke(env.bob, "secret")
    reply = await handle.reply()
    assert handle.ephemeral and reply.ephemeral and reply.visible_to == env.bob.id
    assert reply not in env.fake.messages_in(env.general)
    assert reply in env.fake.messages_in(env.general, include_ephemeral=True)


async def test_autocomplete_at_most_25(env: Env) -> None:
    """Autocomplete returns the bot's choices, capped at Discord's 25."""
    choices = await env.fake.autocomplete(env.bob, "concept", focused="name", value="goodh")
    assert len(choices) == 25 and choices[0] == {"name": "goodh-0", "value": "goodh-0"}


async def test_persistent_view_button_and_select(env: Env) -> None:
    """Clicking a persistent view's button and choosing in its select reach the bot's callbacks."""
    panel = await (await env.fake.invoke(env.alice, "panel")).reply()
    click = await env.fake.click(env.bob, panel, "panel:ping")
    pong = await click.reply()
    assert pong.content == "pong for bob" and pong.ephemeral
    pick = await env.fake.select(env.bob, panel, "panel:pick", ["high"])
    assert (await pick.response()).type == 7
    assert env.fake.world.messages[panel.id].content == "picked high"


async def test_modal_open_and_submit(env: Env) -> None:
    """A modal opened by a command can be submitted and the bot's on_submit answers."""
    opened = await env.fake.invoke(env.bob, "feedback")
    assert opened.modal is None or opened.modal["title"] == "Feedback"
    submitted = await env.fake.submit_modal(env.bob, opened, {"feedback:text": "more papers please"})
    assert opened.modal is not None and opened.modal["title"] == "Feedback"
    assert (await submitted.reply()).content == "Thanks: more papers please"


async def test_ack_deadline_gives_10062(env: Env) -> None:
    """Acknowledging after the (shortened) deadline fails with 10062 / discord.NotFound."""
    env.fake.ack_deadline = 0.2
    handle = await env.fake.invoke(env.bob, "late", {"delay": 0.3})
    exc = await asyncio.wait_for(env.errors.get(), 3)
    assert isinstance(exc, discord.NotFound) and exc.code == 10062
    assert not handle.acknowledged and handle.rejected[0][0] == 404


async def test_double_ack_gives_40060(env: Env) -> None:
    """A second callback for the same interaction fails with 40060."""
    handle = await env.fake.invoke(env.bob, "double")
    exc = await asyncio.wait_for(env.errors.get(), 3)
    assert isinstance(exc, discord.HTTPException) and exc.code == 40060 and exc.status == 400
    assert (await handle.reply()).content == "first"


async def test_missing_permission_forbidden(env: Env) -> None:
    """Sending where the bot's member overwrite denies SEND_MESSAGES raises Forbidden 50013."""
    readonly = env.guild.add_text_channel("announcements")
    env.guild.set_overwrite(readonly, env.guild.bot_member, deny=Permissions.SEND_MESSAGES)
    await env.fake.sync()
    channel = env.channel(readonly)
    assert not channel.permissions_for(channel.guild.me).send_messages  # the client saw the overwrite
    with pytest.raises(discord.Forbidden) as info:
        await channel.send("hello")
    assert info.value.code == 50013
    # A role allow does not beat a member deny; interaction responses ignore channel permissions.
    handle = await env.fake.invoke(env.bob, "about", channel=readonly)
    assert (await handle.reply()).channel_id == readonly.id


async def test_embed_over_limit_50035(env: Env) -> None:
    """An embed title over 256 characters is rejected with 50035 naming the field."""
    with pytest.raises(discord.HTTPException) as info:
        await env.channel(env.general).send(embed=discord.Embed(title="x" * 257))
    assert info.value.code == 50035 and "embeds.0.title" in str(info.value)
    assert [v.path for v in validate_message({"content": "y" * 2001})] == [("content",)]


async def test_429_with_via_is_retried(env: Env) -> None:
    """A 429 with Via + retry_after is retried by discord.py and then succeeds."""
    env.fake.fail_next("POST", "/channels/{channel_id}/messages", status=429, retry_after=0.05)
    message = await env.channel(env.general).send("after rate limit")
    assert message.content == "after rate limit"
    assert [r.status for r in env.fake.requests_to("POST", "/channels/{}/messages")] == [429, 200]


async def test_502_is_retried(env: Env, fast_retries: None) -> None:
    """A 502 is retried by discord.py (back-off shortened) and the retry succeeds."""
    env.fake.fail_next("POST", "/channels/{channel_id}/messages", status=502)
    await env.channel(env.general).send("after 502")
    assert [r.status for r in env.fake.requests_to("POST", "/channels/{}/messages")] == [502, 200]


async def test_gateway_close_resumes(env: Env) -> None:
    """Closing the websocket makes the client RESUME, replaying missed events, and it keeps working."""
    await env.fake.close_gateway(4000)
    missed = env.guild.add_text_channel("created-while-down")
    await env.fake.wait_for_resume()
    await env.fake.sync()
    assert env.fake.gateway.identify_count == 1 and env.fake.gateway.resume_count == 1
    assert env.channel(missed) is not None
    handle = await env.fake.invoke(env.bob, "about")
    assert (await handle.reply()).content.startswith("Alignment bot")


async def test_allowed_mentions(env: Env) -> None:
    """allowed_mentions.none() pings nobody; the default pings the mentioned user and @everyone."""
    channel = env.channel(env.general)
    quiet = await channel.send(f"{env.bob.mention} @everyone", allowed_mentions=discord.AllowedMentions.none())
    loud = await channel.send(f"{env.bob.mention} @everyone")
    quiet_msg, loud_msg = env.fake.world.messages[quiet.id], env.fake.world.messages[loud.id]
    assert not quiet_msg.pinged.any and quiet_msg.allowed_mentions == {"parse": []}
    assert loud_msg.pinged.users == {env.bob.id} and loud_msg.pinged.everyone
    assert loud_msg.allowed_mentions is None


async def test_attachment_option_served_by_cdn(env: Env) -> None:
    """An attachment option is resolved and its bytes are downloadable from the fake CDN."""
    handle = await env.fake.invoke(env.bob, "upload", {"file": Upload("notes.txt", b"goodhart")})
    assert (await handle.reply()).content == "notes.txt: goodhart"


async def test_forum_post_and_thread(env: Env) -> None:
    """Creating a forum post makes a thread plus starter message; a thread can start from a message."""
    forum = env.channel(env.forum)
    tag = forum.available_tags[0]
    post = await forum.create_thread(name="Week 1", content="What is outer alignment?", applied_tags=[tag])
    thread = env.fake.world.channels[post.thread.id]
    assert thread.parent_id == env.forum.id and thread.applied_tags == [tag.id]
    assert env.fake.messages_in(thread)[0].content == "What is outer alignment?"
    message = await env.channel(env.general).send("discuss")
    created = await message.create_thread(name="discussion")
    assert created.id == message.id and env.fake.world.channels[created.id].is_thread


async def test_permission_constants_match_discord_py() -> None:
    """Every permission bit equals discord.py's value for the same name."""
    valid = discord.Permissions.VALID_FLAGS
    for name, value in vars(Permissions).items():
        if name.isupper() and not name.startswith(("ALL", "DEFAULT", "_")):
            assert value in valid.values(), name
            if name.lower() in valid:
                assert valid[name.lower()] == value, name
    assert discord.Permissions.all().value == Permissions.ALL


async def test_bad_token_and_unknown_route() -> None:
    """A wrong token fails login (401 → LoginFailure); an unknown route is a recorded 404."""
    async with running_fake() as fake:
        fake.add_guild("G")
        client, _ = build_bot(asyncio.Queue())
        with pytest.raises(discord.LoginFailure):
            async with connected_client(fake, client, token="wrong"):
                pass
        await _unknown_route(fake)


async def _unknown_route(fake: FakeDiscord) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.api_base}/nope", headers={"Authorization": f"Bot {fake.token}"}) as resp,
    ):
        assert resp.status == 404 and await resp.json() == {"message": "404: Not Found", "code": 0}
    assert fake.unknown_routes[0].path == "/api/v10/nope"


async def test_resolved_options_and_context_menu(env: Env) -> None:
    """Member/channel/role options arrive resolved; a user context menu gets its target."""
    role = env.guild.add_role("reader")
    handle = await env.fake.invoke(env.alice, "inspect", {"who": env.bob, "where": env.general, "role": role})
    assert (await handle.reply()).content == "bob in #general with @reader"
    greet = await env.fake.context_menu(env.alice, "Greet", env.bob)
    assert (await greet.reply()).content == "hello bob"


async def test_human_messages_respect_message_content_intent(env: Env) -> None:
    """Without MESSAGE_CONTENT the bot gets blank content unless it is mentioned."""
    env.fake.say(env.bob, env.general, "hello everyone")
    plain = await asyncio.wait_for(env.inbox.get(), 2)
    assert plain.author.id == env.bob.id and plain.content == ""
    env.fake.say(env.bob, env.general, f"{env.fake.bot_user.mention} hi")
    mentioned = await asyncio.wait_for(env.inbox.get(), 2)
    assert mentioned.content.endswith("hi")


async def test_edit_other_users_message_50005(env: Env) -> None:
    """Editing a message authored by someone else is refused with 50005."""
    human = env.fake.say(env.bob, env.general, "my words")
    fetched = await env.channel(env.general).fetch_message(human.id)
    with pytest.raises(discord.Forbidden) as info:
        await fetched.edit(content="not yours")
    assert info.value.code == 50005


async def test_embeds_dropped_without_embed_links(env: Env) -> None:
    """Without EMBED_LINKS the message is sent but its embeds are dropped (Discord's behaviour)."""
    # @everyone grants EMBED_LINKS too, so a role edit is not enough: deny it on the channel.
    env.guild.set_overwrite(env.general, env.guild.bot_member, deny=Permissions.EMBED_LINKS)
    await env.fake.sync()
    mark = len(env.fake.requests)
    await env.channel(env.general).send("with embed", embed=discord.Embed(title="hidden"))
    stored = await env.fake.wait_for_message(env.general, lambda m: m.content == "with embed")
    assert stored.embeds == [] and env.fake.dropped_embeds[0][0]["title"] == "hidden"
    request = await env.fake.wait_for_request("POST", "/channels/{channel_id}/messages", after=mark)
    assert request.json["embeds"][0]["title"] == "hidden"


async def test_files_and_dms(env: Env) -> None:
    """Multipart uploads become attachments served by the fake CDN; DMs go to a DM channel."""
    sent = await env.channel(env.general).send("report", file=discord.File(io.BytesIO(b"p=0.1"), "pdoom.txt"))
    assert await sent.attachments[0].read() == b"p=0.1"
    user = await env.client.fetch_user(env.bob.id)
    await user.send("psst")
    dm = env.fake.world.dm_channel(env.bob.user)
    assert [m.content for m in env.fake.messages_in(dm)] == ["psst"]
