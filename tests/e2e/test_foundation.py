"""The bot against the fake Discord: start-up and sync, /help and /about, errors, resilience, mentions."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys

import discord
import pytest
from discord import app_commands

import bot as package
from bot.bot import AlignmentBot
from bot.errors import UserFacingError
from tests.e2e.conftest import BotRunner, Server
from tests.fakediscord import FakeDiscord, fast_http_retries
from tests.processes import bot_environment


def add_test_commands(bot: AlignmentBot) -> None:
    """Add commands that fail, defer-then-fail, refuse politely, or echo user text into the channel."""

    @bot.tree.command(name="boom", description="Always fails")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    @bot.tree.command(name="slowboom", description="Defers, then fails")
    async def slowboom(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        raise RuntimeError("kaboom after defer")

    @bot.tree.command(name="polite", description="Refuses with a sentence")
    async def polite(interaction: discord.Interaction) -> None:
        raise UserFacingError("That poll is already closed.")

    @bot.tree.command(name="echo", description="Posts text in the channel")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send(text)
        await interaction.response.send_message("sent", ephemeral=True)


async def test_starts_and_syncs_every_command_once(fake: FakeDiscord, bot: AlignmentBot) -> None:
    """On first start the bot syncs globally, registering every command in its tree."""
    assert fake.sync_count == 1
    assert fake.command_syncs[0].guild_id is None
    assert sorted(fake.command_names()) == sorted(c.name for c in bot.tree.get_commands())
    assert {"help", "about", "concept"} <= set(fake.command_names())


async def test_restart_does_not_sync_unchanged_commands(fake: FakeDiscord, runner: BotRunner) -> None:
    """A restart with the same commands sends no sync; --sync forces one; a changed command set syncs again."""
    await runner.start()
    await runner.restart()
    assert fake.sync_count == 1
    await runner.restart(force_sync=True)
    assert fake.sync_count == 2
    runner.prepare = add_test_commands
    await runner.restart()
    assert fake.sync_count == 3
    assert "boom" in fake.command_names()


async def test_dev_guild_syncs_to_that_guild_only(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """With DEV_GUILD_ID set, commands are synced to that guild, not globally."""
    runner.settings_overrides["dev_guild_id"] = server.guild.id
    await runner.start()
    assert [s.guild_id for s in fake.command_syncs] == [server.guild.id]
    assert "help" in fake.command_names(server.guild)
    assert fake.command_names() == []


async def test_help_lists_every_command_from_the_tree(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """/help answers an admin privately with every slash command the tree holds."""
    handle = await fake.invoke(server.admin, "help", channel=server.general)
    reply = await handle.reply()
    assert handle.ephemeral
    for command in bot.tree.walk_commands():
        if isinstance(command, app_commands.Command):
            assert f"/{command.qualified_name}`" in reply.text


async def test_help_shows_a_member_only_the_commands_they_can_use(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """A member's /help lists what their command picker lists: the member commands, no admin group."""
    reply = await (await fake.invoke(server.member, "help", channel=server.general)).reply()
    assert "`/concept`" in reply.text and "`/pdoom results`" in reply.text and "`/prompts suggest`" in reply.text
    assert "-admin" not in reply.text and "for admins" not in reply.text and "/content" not in reply.text


def add_admin_group(bot: AlignmentBot) -> None:
    """Add a top-level admins' group, declared the way the bot's admin groups are."""
    group = app_commands.Group(
        name="demo-admin",
        description="Demo admin work",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    @group.command(name="reset", description="Reset the demo")
    async def reset(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("reset", ephemeral=True)

    bot.tree.add_command(group)


async def test_help_lists_admin_groups_as_their_own_sections(
    fake: FakeDiscord, server: Server, runner: BotRunner
) -> None:
    """An admins' top-level group is listed in its own section titled for admins, after the members' commands."""
    runner.prepare = add_admin_group
    await runner.start()
    reply = await (await fake.invoke(server.admin, "help", channel=server.general)).reply()
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    names = list(fields)
    assert names[0] == "General" and names.index("/pdoom") < names.index("/demo-admin · for admins")
    assert fields["/demo-admin · for admins"] == "`/demo-admin reset` Reset the demo"
    assert "`/content reload`" in fields["/content · for admins"]
    assert len(reply.text) <= 6000


async def test_about_shows_version_content_and_uptime(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """/about shows the version, how much content is loaded, and the uptime."""
    reply = await (await fake.invoke(server.member, "about", channel=server.general)).reply()
    stats = bot.library.store.stats()
    assert package.__version__ in reply.text
    assert f"{stats['concepts']} concepts" in reply.text
    assert re.search(r"Uptime\n\d+ (s|min)", reply.text)


async def test_unexpected_error_gets_a_code_and_the_bot_keeps_answering(
    fake: FakeDiscord, server: Server, runner: BotRunner, caplog: pytest.LogCaptureFixture
) -> None:
    """A command that raises answers privately with an error code that is also in the log; the next command works."""
    runner.prepare = add_test_commands
    await runner.start()
    with caplog.at_level(logging.ERROR, logger="bot.tree"):
        handle = await fake.invoke(server.member, "boom", channel=server.general)
        reply = await handle.reply()
    assert handle.ephemeral
    code = re.search(r"code ([0-9A-F]{6})", reply.content)
    assert code, reply.content
    assert any(code.group(1) in record.getMessage() and record.exc_info for record in caplog.records)
    assert "kaboom" not in reply.content
    about = await (await fake.invoke(server.member, "about", channel=server.general)).reply()
    assert "About this bot" in about.text


async def test_error_after_defer_uses_a_followup(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """When the command already deferred, the error arrives as an ephemeral follow-up, not a second ack."""
    runner.prepare = add_test_commands
    await runner.start()
    handle = await fake.invoke(server.member, "slowboom", channel=server.general)
    followups = await handle.wait_followups(1)
    assert "Something went wrong" in followups[0].content
    assert followups[0].ephemeral
    assert handle.rejected == []


async def test_user_facing_error_shows_its_sentence(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """A UserFacingError is shown as-is, privately, with no error code."""
    runner.prepare = add_test_commands
    await runner.start()
    handle = await fake.invoke(server.member, "polite", channel=server.general)
    reply = await handle.reply()
    assert reply.content == "That poll is already closed."
    assert handle.ephemeral


async def test_survives_a_gateway_close_by_resuming(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """After the gateway drops the connection the bot RESUMEs and keeps answering commands."""
    await fake.close_gateway(4000)
    await fake.wait_for_resume()
    reply = await (await fake.invoke(server.member, "about", channel=server.general)).reply()
    assert "About this bot" in reply.text


async def test_survives_a_502_on_a_send(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """A 502 on a channel message is retried by discord.py and the message arrives once."""
    runner.prepare = add_test_commands
    await runner.start()
    fake.fail_next("POST", "/channels/{channel_id}/messages", status=502)
    with fast_http_retries():
        handle = await fake.invoke(server.member, "echo", {"text": "hello"}, channel=server.general)
        await handle.reply()
    assert [m.content for m in fake.messages_in(server.general)] == ["hello"]
    statuses = [r.status for r in fake.requests_to("POST", "/channels/{channel_id}/messages")]
    assert statuses == [502, 200]


async def test_survives_a_429_on_an_interaction_reply(fake: FakeDiscord, server: Server, bot: AlignmentBot) -> None:
    """A rate-limited interaction callback is retried after retry_after and still answers in time."""
    fake.fail_next("POST", "/interactions/{interaction_id}/{token}/callback", status=429, retry_after=0.05)
    handle = await fake.invoke(server.member, "about", channel=server.general)
    assert "About this bot" in (await handle.reply()).text
    statuses = [r.status for r in fake.requests_to("POST", "/interactions/{interaction_id}/{token}/callback")]
    assert statuses == [429, 200]


async def test_user_text_pings_nobody(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """Text with @everyone, a user and a role mention, sent by the bot, notifies no one."""
    runner.prepare = add_test_commands
    await runner.start()
    role = server.guild.add_role("readers")
    text = f"@everyone @here {server.admin.mention} {role.mention}"
    await (await fake.invoke(server.member, "echo", {"text": text}, channel=server.general)).reply()
    message = fake.messages_in(server.general)[-1]
    assert message.content == text
    assert not message.pinged.any


async def test_python_dash_m_bot_starts_against_the_fake(fake: FakeDiscord, server: Server, tmp_path) -> None:
    """`python -m bot` with settings from the environment connects to the fake and answers /about."""
    env = bot_environment(fake, tmp_path / "proc.sqlite3")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        await fake.wait_until_connected(timeout=30)
        await asyncio.wait_for(fake.sync(), 10)
        reply = await (await fake.invoke(server.member, "about", channel=server.general)).reply(timeout=10)
        assert "About this bot" in reply.text
        assert fake.sync_count == 1
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert fake.token not in stderr.decode()


async def test_a_stop_while_shards_are_still_connecting_is_quick_and_quiet(fake: FakeDiscord, tmp_path) -> None:
    """SIGTERM while the second shard waits its turn to identify: a clean exit at once, no traceback.

    With one identify per 5 s (max_concurrency 1), shard 1 waits after shard 0; discord.py would otherwise identify
    it on the closed connection, log a traceback and retry 5 s later, holding up the stop.
    """
    for shard_id in range(2):
        fake.add_guild(f"server {shard_id}", shard=(shard_id, 2)).add_text_channel("general")
    env = bot_environment(fake, tmp_path / "proc.sqlite3", SHARD_COUNT="2", LOG_LEVEL="INFO")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        await fake.gateway.changed.wait_for(lambda: (0, 2) in fake.connections, 30, "shard 0 to connect")
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 4)  # not the 5 s identify wait, nor a retry
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode()
    assert process.returncode == 0, text
    assert "Stopped cleanly" in text and "Traceback" not in text, text
    assert fake.gateway.identify_count == 1
