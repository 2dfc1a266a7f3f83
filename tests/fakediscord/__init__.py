"""fakediscord: a fake Discord (REST API + gateway) for end-to-end tests of a discord.py bot.

The *unmodified* discord.py client talks to it over loopback. Two class attributes are
patched to point discord.py at the fake (``patch_discord`` does this and restores them)::

    discord.http.Route.BASE = fake.api_base              # http://127.0.0.1:PORT/api/v10
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)  # ws://127.0.0.1:PORT/gateway

``Route.BASE`` is also used for interaction callbacks and webhook follow-ups, which the fake
serves under the same base. The gateway ignores the requested compression and sends plain
JSON text frames (discord.py parses ``str`` frames directly); READY's ``resume_gateway_url``
points back at the fake so RESUME works.

Example::

    import discord
    from discord import app_commands
    from tests.fakediscord import FakeDiscord, Permissions, connected_client, running_fake

    async def test_about():
        async with running_fake() as fake:
            guild = fake.add_guild("Alignment Reading Group")
            alice = guild.add_member("alice", permissions=Permissions.MANAGE_GUILD)
            general = guild.add_text_channel("general")

            client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.1)
            tree = app_commands.CommandTree(client)

            @tree.command(description="About the bot")
            async def about(interaction: discord.Interaction) -> None:
                await interaction.response.send_message("I help reading groups.")

            async with connected_client(fake, client):
                await tree.sync()
                handle = await fake.invoke(alice, "about", channel=general)
                assert "reading groups" in (await handle.reply()).content

Main API (all on :class:`FakeDiscord` unless noted):

* world: ``add_guild`` → :class:`Guild` with ``add_member``, ``add_role``, ``add_text_channel``,
  ``add_forum_channel``, ``add_thread``, ``set_overwrite``, ``edit_role``, ``give_role`` ...;
  changes after connecting are dispatched to the bot (CHANNEL_*, GUILD_ROLE_*, GUILD_MEMBER_*,
  THREAD_*). ``fake.say(member, channel, text)`` posts a message as a human.
* acting: ``invoke``, ``autocomplete``, ``context_menu``, ``click``, ``select``, ``submit_modal``
  → :class:`Interaction` handles (``await h.response()``, ``await h.reply()``, ``h.followups``,
  ``h.ephemeral``, ``h.original_message``, ``h.modal``, ``h.choices``).
* assertions: ``requests`` / ``requests_to`` / ``wait_for_request``, ``messages_in`` /
  ``wait_for_message``, ``Message.pinged`` (:class:`Pings`), ``command_syncs``,
  ``unknown_routes``, ``gateway.sent``; ``await fake.sync()`` waits until the bot processed all
  dispatched events.
* sharding (:mod:`fakediscord.sharding`): ``add_guild(name, shard=(id, count))`` makes a guild owned
  by that shard, ``shard_of(guild_id, count)``; IDENTIFY's ``shard`` is validated (close 4010) and a
  sharded session gets only its guilds' READY entries and events (DMs: shard 0); ``fake.connections``
  lists the live sessions' ``(shard_id, shard_count)`` (``None`` if unsharded),
  ``Interaction.delivered_to`` the shards an interaction was sent on, ``SentEvent.shard`` the shard
  of every dispatch; ``fake.recommended_shards`` is ``GET /gateway/bot``'s ``shards`` and
  ``fake.max_concurrency`` its ``session_start_limit.max_concurrency``. discord.py's own
  ``before_identify_hook`` sleeps 5 s before every shard but the first; the bot's waits only as the
  session start limit requires, so set ``max_concurrency`` to the shard count for a fast start.
* faults: ``fail_next(method, route, status=429|500|502, retry_after=..., times=...)``,
  ``close_gateway(code)`` + ``wait_for_resume()``, ``send_reconnect()``, ``invalidate_session()``.
* Discord rules: 3 s ack deadline (``ack_deadline``; 10062), double ack (40060), permissions
  (50013 / 50001 / 50005), form limits (50035 via :mod:`fakediscord.limits`), empty message (50006).

Known simplifications: no rate-limit headers unless injected, no slowmode, no voice, no
presences, no audit log, no webhooks other than interaction webhooks, no 4011 "sharding required"
(any shard count is accepted), edits do not re-ping.
"""

from .errors import DiscordError
from .fake import DEFAULT_TOKEN, CommandSync, FakeDiscord
from .gateway import Gateway, GatewaySession, SentEvent
from .harness import connected_client, fast_http_retries, patch_discord, running_fake
from .intents import Intents
from .interactions import CallbackRecord, CommandNotRegistered, Interaction, InvalidInteraction, Upload
from .limits import (
    Violation,
    validate_autocomplete,
    validate_commands,
    validate_components,
    validate_embeds,
    validate_message,
    validate_modal,
)
from .mentions import Pings, compute_pings
from .permissions import Permissions, permission_names
from .server import FaultRule, RecordedRequest
from .sharding import INVALID_SHARD_CLOSE_CODE, Shard, shard_of
from .world import Attachment, Channel, Guild, Member, Message, Overwrite, Role, User, World

__all__ = [
    "DEFAULT_TOKEN",
    "INVALID_SHARD_CLOSE_CODE",
    "Attachment",
    "CallbackRecord",
    "Channel",
    "CommandNotRegistered",
    "CommandSync",
    "DiscordError",
    "FakeDiscord",
    "FaultRule",
    "Gateway",
    "GatewaySession",
    "Guild",
    "Intents",
    "Interaction",
    "InvalidInteraction",
    "Member",
    "Message",
    "Overwrite",
    "Permissions",
    "Pings",
    "RecordedRequest",
    "Role",
    "SentEvent",
    "Shard",
    "Upload",
    "User",
    "Violation",
    "World",
    "compute_pings",
    "connected_client",
    "fast_http_retries",
    "patch_discord",
    "permission_names",
    "running_fake",
    "shard_of",
    "validate_autocomplete",
    "validate_commands",
    "validate_components",
    "validate_embeds",
    "validate_message",
    "validate_modal",
]
