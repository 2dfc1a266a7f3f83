"""``FakeDiscord``: the facade tests use (world builder, server lifecycle, acting, waiting, faults)."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from ._util import Notifier
from .gateway import Gateway
from .intents import Intents
from .interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    Interaction,
    InvalidInteraction,
    base_payload,
    build_command_data,
    build_component_data,
    build_context_menu_data,
    build_modal_submit_data,
)
from .mentions import Pings
from .permissions import Permissions
from .server import FaultRule, RecordedRequest, RestApi, normalize_route
from .sharding import Shard
from .world import Attachment, Channel, Guild, Member, Message, User, World

DEFAULT_TOKEN = "ZmFrZWRpc2NvcmQ.bot.token"


@dataclass
class CommandSync:
    """One bulk overwrite of application commands (``CommandTree.sync``)."""

    guild_id: int | None
    names: list[str]
    at: float


class FakeDiscord:
    """An in-process fake of Discord's REST API and gateway for the unmodified discord.py client.

    See the package docstring (``tests/fakediscord/__init__.py``) for a complete example.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_name: str = "FakeBot",
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval_ms: int = 41250,
        ack_deadline: float = 3.0,
        followup_ttl: float = 15 * 60.0,
        privileged_intents: int = Intents.PRIVILEGED,
        embed_links_policy: Literal["drop", "reject"] = "drop",
        default_locale: str = "en-US",
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        #: Seconds the bot has to acknowledge an interaction (Discord: 3).
        self.ack_deadline = ack_deadline
        #: Seconds the interaction token stays valid for follow-ups (Discord: 15 minutes).
        self.followup_ttl = followup_ttl
        #: What happens to embeds sent without EMBED_LINKS: "drop" (Discord) or "reject" (403/50013).
        self.embed_links_policy = embed_links_policy
        self.default_locale = default_locale
        #: ``shards`` in ``GET /gateway/bot``: the count an ``AutoShardedClient`` without ``shard_count`` runs.
        self.recommended_shards = 1
        #: ``session_start_limit.max_concurrency`` in ``GET /gateway/bot``: how many shards may identify at once.
        self.max_concurrency = 1
        self.world = World(bot_name=bot_name)
        self.gateway = Gateway(
            self.world,
            token=token,
            heartbeat_interval_ms=heartbeat_interval_ms,
            privileged_intents=privileged_intents,
            resume_url=lambda: self.gateway_url,
        )
        self.world.emit_hook = self._emit
        self.api = RestApi(self)
        #: Every HTTP request received, in order.
        self.requests: list[RecordedRequest] = []
        #: Requests to routes the fake does not implement (also answered 404).
        self.unknown_routes: list[RecordedRequest] = []
        #: Every interaction sent to the bot, in order.
        self.interactions: list[Interaction] = []
        #: Every ``PUT .../commands`` bulk overwrite, in order.
        self.command_syncs: list[CommandSync] = []
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        #: Embed lists removed because the bot lacked EMBED_LINKS (policy "drop").
        self.dropped_embeds: list[list[dict[str, Any]]] = []
        self.changed = Notifier()
        self._interactions: dict[int, Interaction] = {}
        self._interactions_by_token: dict[str, Interaction] = {}
        self._faults: list[FaultRule] = []
        self._runner: web.AppRunner | None = None

    # ================================================================== lifecycle
    async def start(self) -> FakeDiscord:
        """Start the HTTP/websocket server on ``host:port`` (port 0 = pick a free one)."""
        if self._runner is not None:
            return self
        runner = web.AppRunner(self.api.build_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self._runner = runner
        return self

    async def stop(self) -> None:
        """Close gateway connections and stop the server."""
        if self._runner is None:
            return
        await self.gateway.shutdown()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (also sent as ``resume_gateway_url``)."""
        return f"ws://{self.host}:{self.port}/gateway"

    # ================================================================== world shortcuts
    @property
    def bot_user(self) -> User:
        """The bot's user."""
        return self.world.bot_user

    @property
    def application_id(self) -> int:
        """The application id (same as the bot user id)."""
        return self.world.application_id

    @property
    def application_owner(self) -> User:
        """Owner in ``application_info`` (what ``Client.is_owner`` compares against)."""
        return self.world.application_owner

    @application_owner.setter
    def application_owner(self, user: User | Member) -> None:
        self.world.application_owner = user.user if isinstance(user, Member) else user

    @property
    def guild(self) -> Guild:
        """The first guild (most tests have exactly one)."""
        return next(iter(self.world.guilds.values()))

    def add_guild(self, name: str, **kwargs: Any) -> Guild:
        """Create a guild (see :meth:`World.add_guild`: ``bot_permissions``, ``shard=(id, count)``, ...)."""
        return self.world.add_guild(name, **kwargs)

    @property
    def connections(self) -> list[Shard | None]:
        """``(shard_id, shard_count)`` of every live gateway session (``None``: unsharded), in IDENTIFY order."""
        return self.gateway.shards

    def create_user(self, name: str, *, bot: bool = False) -> User:
        """Create a user outside any guild (e.g. for DMs)."""
        return self.world.create_user(name, bot=bot)

    def messages_in(self, channel: Channel | int, *, include_ephemeral: bool = False) -> list[Message]:
        """Messages currently in a channel, oldest first."""
        return self.world.messages_in(channel, include_ephemeral=include_ephemeral)

    def last_message(self, channel: Channel | int) -> Message | None:
        """Newest visible message in a channel."""
        msgs = self.messages_in(channel)
        return msgs[-1] if msgs else None

    def store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> Attachment:
        """Store bytes and return an attachment whose URL is served by the fake CDN."""
        att_id = self.world.next_id()
        url = f"{self.base_url}/attachments/{channel_id}/{att_id}/{urllib.parse.quote(filename)}"
        attachment = Attachment(
            id=att_id,
            filename=filename,
            data=data,
            url=url,
            content_type=content_type,
            description=description,
            ephemeral=ephemeral,
        )
        self.world.attachments[att_id] = attachment
        return attachment

    def say(
        self,
        who: Member | User,
        channel: Channel | None = None,
        content: str = "",
        *,
        embeds: Sequence[dict[str, Any]] = (),
        reply_to: Message | None = None,
        allowed_mentions: dict[str, Any] | None = None,
        check_permissions: bool = True,
    ) -> Message:
        """Post a message as a member/user (dispatches MESSAGE_CREATE to the bot)."""
        user = who.user if isinstance(who, Member) else who
        if channel is None:
            channel = self._default_channel(who)
        guild = channel.guild
        if guild is not None and check_permissions:
            send = Permissions.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permissions.SEND_MESSAGES
            if not guild.permissions_for(user, channel) & (Permissions.VIEW_CHANNEL | send) == (
                Permissions.VIEW_CHANNEL | send
            ):
                raise InvalidInteraction(f"{user.username} cannot send messages in #{channel.name}")
        msg = Message(
            id=self.world.next_id(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=user,
            content=content,
            embeds=list(embeds),
            type=19 if reply_to else 0,
            allowed_mentions=allowed_mentions,
        )
        if reply_to is not None:
            msg.message_reference = {
                "type": 0,
                "message_id": str(reply_to.id),
                "channel_id": str(reply_to.channel_id),
                "guild_id": str(reply_to.guild_id) if reply_to.guild_id else None,
            }
        msg.pinged = self.world.compute_pings(channel, user, msg)
        self.world.add_message(channel, msg)
        self.changed.notify()
        return msg

    # ================================================================== commands
    def registered_commands(self, guild: Guild | int | None = None) -> list[dict[str, Any]]:
        """Commands the bot registered globally (``guild=None``) or for a guild."""
        if guild is None:
            return list(self.global_commands)
        gid = guild if isinstance(guild, int) else guild.id
        return list(self.guild_commands.get(gid, []))

    def command_names(self, guild: Guild | int | None = None) -> list[str]:
        """Names of :meth:`registered_commands`."""
        return [c["name"] for c in self.registered_commands(guild)]

    @property
    def sync_count(self) -> int:
        """Number of bulk command overwrites so far."""
        return len(self.command_syncs)

    def _record_sync(self, guild_id: int | None, commands: list[dict[str, Any]]) -> None:
        self.command_syncs.append(
            CommandSync(guild_id, [c["name"] for c in commands], asyncio.get_running_loop().time())
        )

    # ================================================================== acting as a member
    def _default_channel(self, who: Member | User) -> Channel:
        if isinstance(who, Member):
            for channel in who.guild.text_channels:
                if who.guild.permissions_for(who, channel) & Permissions.VIEW_CHANNEL:
                    return channel
            raise InvalidInteraction(f"{who.name} can see no text channel in {who.guild.name!r}; pass channel=")
        return self.world.dm_channel(who)

    def _send(
        self,
        type_: int,
        who: Member | User,
        channel: Channel,
        data: dict[str, Any],
        *,
        message: Message | None = None,
        parent: Interaction | None = None,
    ) -> Interaction:
        if not self.gateway.connected:
            raise RuntimeError("fakediscord: no bot is connected to the gateway (await fake.wait_until_connected())")
        if isinstance(who, Member) and channel.guild is not who.guild:
            raise InvalidInteraction(f"#{channel.name} is not in {who.guild.name!r}")
        if not self.gateway.owners(channel.guild_id):
            where = f"guild {channel.guild.name!r}" if channel.guild else "DMs"
            raise RuntimeError(f"fakediscord: no gateway session owns the shard of {where}")
        payload, interaction_id, token = base_payload(
            self, type_=type_, who=who, channel=channel, data=data, message=message
        )
        inter = Interaction(
            fake=self,
            id=interaction_id,
            token=token,
            type=type_,
            user=who.user if isinstance(who, Member) else who,
            member=who if isinstance(who, Member) else None,
            channel=channel,
            payload=payload,
            dispatched_at=asyncio.get_running_loop().time(),
            message_id=message.id if message else None,
            parent=parent,
        )
        self.interactions.append(inter)
        self._interactions[interaction_id] = inter
        self._interactions_by_token[token] = inter
        inter.delivered_to = [s.shard for s in self.gateway.dispatch("INTERACTION_CREATE", payload)]
        self.changed.notify()
        return inter

    async def invoke(
        self,
        who: Member | User,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        channel: Channel | None = None,
        check_permissions: bool = True,
    ) -> Interaction:
        """Run a slash command as ``who`` (``"group sub"`` for subcommands); returns the handle.

        Options are checked against the registered schema; USER/CHANNEL/ROLE/MENTIONABLE values
        are world objects, ATTACHMENT values ``Upload(...)`` or ``(filename, bytes)``.
        ``check_permissions=False`` skips Discord's default_member_permissions/contexts gate.
        """
        channel = channel or self._default_channel(who)
        data = build_command_data(self, who, channel, command, options, check_permissions=check_permissions)
        return self._send(APPLICATION_COMMAND, who, channel, data)

    async def autocomplete(
        self,
        who: Member | User,
        command: str,
        focused: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        channel: Channel | None = None,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Type ``value`` into option ``focused`` and return the bot's choices (``[{name, value}]``)."""
        channel = channel or self._default_channel(who)
        opts = {**(options or {}), focused: value}
        data = build_command_data(self, who, channel, command, opts, focused=focused)
        inter = self._send(APPLICATION_COMMAND_AUTOCOMPLETE, who, channel, data)
        await inter.response(timeout)
        choices = inter.choices
        if choices is None:
            raise InvalidInteraction(f"the bot answered autocomplete with callback type {inter.callback}")
        return choices

    async def context_menu(
        self,
        who: Member | User,
        name: str,
        target: Member | User | Message,
        *,
        channel: Channel | None = None,
    ) -> Interaction:
        """Run a user (target Member/User) or message (target Message) context-menu command."""
        if channel is None:
            channel = (
                self.world.channels[target.channel_id] if isinstance(target, Message) else self._default_channel(who)
            )
        data = build_context_menu_data(self, who, channel, name, target)
        return self._send(APPLICATION_COMMAND, who, channel, data)

    def _resolve_message(self, message: Message | Interaction | int, custom_id: str) -> Message:
        if isinstance(message, int):
            msg = self.world.messages.get(message)
            if msg is None:
                raise InvalidInteraction(f"no message {message}")
            return msg
        if isinstance(message, Interaction):
            candidates = [m for m in [message.original_message, *message.followups] if m is not None]
            for m in candidates:
                if m.find_component(custom_id) is not None:
                    return m
            if not candidates:
                raise InvalidInteraction(f"interaction {message.id} produced no message yet")
            return candidates[0]
        return message

    async def click(self, who: Member | User, message: Message | Interaction | int, custom_id: str) -> Interaction:
        """Click the button ``custom_id`` on ``message`` (a Message, its id, or an interaction's answer)."""
        msg = self._resolve_message(message, custom_id)
        data = build_component_data(self, who, msg, custom_id, None)
        return self._send(MESSAGE_COMPONENT, who, self.world.channels[msg.channel_id], data, message=msg)

    async def select(
        self,
        who: Member | User,
        message: Message | Interaction | int,
        custom_id: str,
        values: Sequence[Any],
    ) -> Interaction:
        """Choose ``values`` in the select menu ``custom_id`` (strings, or Members/Roles/Channels)."""
        msg = self._resolve_message(message, custom_id)
        data = build_component_data(self, who, msg, custom_id, values)
        return self._send(MESSAGE_COMPONENT, who, self.world.channels[msg.channel_id], data, message=msg)

    async def submit_modal(
        self,
        who: Member | User,
        opened: Interaction,
        values: Mapping[str, Any],
        *,
        timeout: float = 5.0,
    ) -> Interaction:
        """Submit the modal the bot opened in answer to ``opened`` with ``{custom_id: value}``."""
        await opened.response(timeout)
        modal = opened.modal
        if modal is None:
            raise InvalidInteraction(f"interaction {opened.id} was not answered with a modal")
        data = build_modal_submit_data(modal, values)
        message = self.world.messages.get(opened.message_id) if opened.message_id else None
        return self._send(MODAL_SUBMIT, who, opened.channel, data, message=message, parent=opened)

    # ================================================================== waiting & assertions
    async def wait_until_connected(self, timeout: float = 5.0) -> None:
        """Wait until the bot IDENTIFIED and received READY and all GUILD_CREATEs."""
        await self.gateway.wait_until_connected(timeout)

    async def wait_for_resume(self, timeout: float = 5.0) -> None:
        """Wait until the bot RESUMEd after :meth:`close_gateway` (or a RECONNECT)."""
        await self.gateway.wait_for_resume(timeout)

    async def sync(self, timeout: float = 5.0) -> None:
        """Wait until the bot has processed every gateway event sent so far (e.g. after builder changes)."""
        await self.gateway.sync(timeout)

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Return recorded requests for ``method route`` (route with any parameter names)."""
        return [r for r in self.requests if r.matches(method, route)]

    async def wait_for_request(
        self,
        method: str,
        route: str | Callable[[RecordedRequest], bool],
        timeout: float = 5.0,
        *,
        after: int = 0,
    ) -> RecordedRequest:
        """Wait for a completed request (``fake.requests[after:]``) matching method + route/predicate."""

        def find() -> RecordedRequest | None:
            for rec in self.requests[after:]:
                if rec.status == 0 or rec.method != method.upper():
                    continue
                if callable(route) and route(rec):
                    return rec
                if isinstance(route, str) and rec.route and normalize_route(rec.route) == normalize_route(route):
                    return rec
            return None

        return await self.changed.wait_for(find, timeout, f"request {method} {route}")

    async def wait_for_message(
        self,
        channel: Channel | int,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 5.0,
        *,
        after: Message | int | None = None,
        include_ephemeral: bool = False,
    ) -> Message:
        """First message in ``channel`` matching ``predicate`` (default: any message by the bot).

        Only messages newer than ``after`` (a Message or id) are considered when given.
        """
        floor = after.id if isinstance(after, Message) else (after or 0)
        check = predicate or (lambda m: m.author.id == self.bot_user.id)

        def find() -> Message | None:
            for m in self.messages_in(channel, include_ephemeral=include_ephemeral):
                if m.id > floor and check(m):
                    return m
            return None

        return await self.changed.wait_for(find, timeout, "a matching message")

    def pings_of(self, message: Message) -> Pings:
        """Who ``message`` pinged (same as ``message.pinged``)."""
        return message.pinged

    # ================================================================== fault injection
    def fail_next(
        self,
        method: str,
        route: str,
        status: int = 429,
        *,
        retry_after: float = 0.05,
        times: int = 1,
        is_global: bool = False,
        body: dict[str, Any] | None = None,
        channel: Channel | int | None = None,
    ) -> FaultRule:
        """Answer the next ``times`` ``method route`` requests with ``status``.

        429 comes with ``Via`` + ``retry_after`` so discord.py sleeps and retries; 500/502/504
        are retried by discord.py after ``1 + 2*try`` seconds (see :func:`fast_http_retries`).
        With ``channel``, only requests to that channel's routes are failed.
        """
        path = None if channel is None else f"/channels/{channel if isinstance(channel, int) else channel.id}/"
        rule = FaultRule(method.upper(), normalize_route(route), status, times, retry_after, is_global, body, path)
        self._faults.append(rule)
        return rule

    def refuse(
        self,
        channel: Channel | int,
        code: int,
        message: str,
        *,
        status: int = 403,
        method: str = "POST",
        route: str = "/channels/{channel_id}/messages",
    ) -> FaultRule:
        """Refuse every ``method route`` request to ``channel`` with Discord's error ``code`` until the rule is removed.

        For refusals the world's permissions can't express, e.g. AutoMod (400, 200000) blocking every post.
        """
        return self.fail_next(
            method, route, status, times=1 << 30, body={"message": message, "code": code}, channel=channel
        )

    def stall(
        self, method: str, route: str, seconds: float, *, times: int = 1, channel: Channel | int | None = None
    ) -> FaultRule:
        """Answer the next ``times`` ``method route`` requests only after ``seconds`` (a slow or hanging Discord)."""
        rule = self.fail_next(method, route, 0, times=times, channel=channel)
        rule.delay = seconds
        return rule

    def remove_fault(self, rule: FaultRule) -> None:
        """Stop injecting ``rule``."""
        rule.times = 0

    def _take_fault(self, rec: RecordedRequest) -> FaultRule | None:
        for rule in self._faults:
            if (
                rule.times > 0
                and rule.method == rec.method
                and rec.route
                and normalize_route(rec.route) == rule.route
                and (rule.path_contains is None or rule.path_contains in rec.path)
            ):
                rule.times -= 1
                return rule
        return None

    def remove_bot(self, guild: Guild) -> None:
        """Kick the bot from ``guild``: GUILD_DELETE without ``unavailable``; its routes then answer 403 / 50001."""
        guild.bot_present = False
        self._emit("GUILD_DELETE", {"id": str(guild.id)})

    def add_bot_back(self, guild: Guild) -> None:
        """Invite the bot into ``guild`` again (GUILD_CREATE, as when it joins)."""
        guild.bot_present, guild.available = True, True
        self._emit("GUILD_CREATE", guild.join_payload())

    def set_available(self, guild: Guild, available: bool) -> None:
        """Start or end a Discord-side outage of ``guild`` (GUILD_DELETE with ``unavailable``, then GUILD_CREATE).

        While unavailable, a new session's READY lists the guild as unavailable and no GUILD_CREATE follows,
        as after a re-identify during an outage.
        """
        guild.available = available
        if available:
            self._emit("GUILD_CREATE", guild.to_payload())
        else:
            self._emit("GUILD_DELETE", {"id": str(guild.id), "unavailable": True})

    async def close_gateway(self, code: int = 4000) -> None:
        """Close the bot's websocket with ``code``; discord.py reconnects and RESUMEs (4004/4010-4014 are fatal)."""
        await self.gateway.close(code)

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT."""
        await self.gateway.send_reconnect()

    async def reidentify(self, timeout: float = 10.0) -> None:
        """Invalidate the bot's session (not resumable) and wait until it has identified and taken in READY."""
        identified = self.gateway.identify_count
        await self.invalidate_session(resumable=False)
        await self.gateway.changed.wait_for(lambda: self.gateway.identify_count > identified, timeout, "a new identify")
        await self.wait_until_connected(timeout)

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION (the bot re-IDENTIFIES unless ``resumable``)."""
        await self.gateway.invalidate_sessions(resumable)

    # ================================================================== internals
    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        self.gateway.dispatch(event, payload)
        self.changed.notify()

    def __repr__(self) -> str:
        state = "running" if self._runner else "stopped"
        return f"<FakeDiscord {state} {self.base_url} guilds={len(self.world.guilds)}>"
