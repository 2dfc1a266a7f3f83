"""The aiohttp application: Discord's REST routes under ``/api/v10``, the gateway and a fake CDN.

A middleware parses every request body once (JSON or multipart with ``payload_json`` +
``files[n]``), records it in ``FakeDiscord.requests``, applies injected faults, checks the bot
token and turns :class:`~fakediscord.errors.DiscordError` into Discord-shaped JSON errors.
Unknown routes answer ``404 {"message": "404: Not Found", "code": 0}`` and are also collected
in ``FakeDiscord.unknown_routes`` so a missing route is easy to spot in a failing test.

Permission checks use the bot's computed permissions in the target channel. Interaction
callbacks and webhook follow-ups skip channel permissions, exactly like Discord.
Embeds sent to a channel without EMBED_LINKS are silently dropped (Discord's behaviour) unless
``FakeDiscord(embed_links_policy="reject")`` is used, which answers 403/50013 instead.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import errors
from ._util import iso_now, json_response
from .errors import DiscordError
from .interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    UPDATE_MESSAGE,
    CallbackRecord,
    Interaction,
)
from .limits import EMPTY_MESSAGE, Violation, errors_object, validate_autocomplete, validate_message, validate_modal
from .limits import validate_commands as _validate_commands
from .mentions import Pings
from .permissions import Permissions as P
from .world import (
    EPHEMERAL,
    GUILD_CATEGORY,
    GUILD_FORUM,
    GUILD_TEXT,
    LOADING,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Attachment,
    Channel,
    Guild,
    Message,
    Overwrite,
)

if TYPE_CHECKING:
    from .fake import FakeDiscord

API_PREFIX = "/api/v10"
# Parsed (payload, files) of the current request; RequestKey avoids aiohttp's NotAppKeyWarning.
BODY_KEY: Any = web.RequestKey("fakediscord_body", tuple) if hasattr(web, "RequestKey") else "fakediscord_body"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Message types
DEFAULT = 0
REPLY = 19
CHAT_INPUT_COMMAND = 20
THREAD_STARTER_MESSAGE = 21

# Message flags the sender may set (SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2)
_SETTABLE_FLAGS = (1 << 2) | EPHEMERAL | (1 << 12) | (1 << 15)


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    #: The multipart field name, e.g. ``files[0]``.
    part_name: str
    filename: str
    data: bytes = field(repr=False)
    content_type: str | None


@dataclass
class RecordedRequest:
    """One HTTP request the fake received (REST, interaction callbacks and webhooks)."""

    method: str
    path: str
    #: Route template with discord.py's parameter names, e.g. ``/channels/{channel_id}/messages``
    #: (``None`` for unknown routes).
    route: str | None
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    #: Event-loop time (``loop.time()``) when the request arrived.
    at: float
    status: int = 0
    #: Set when the response was produced by :meth:`FakeDiscord.fail_next`.
    injected: bool = False
    response: Any = None

    def matches(self, method: str, route: str) -> bool:
        """Whether this is ``method route`` (route compared with parameter names ignored)."""
        return (
            self.method == method.upper()
            and self.route is not None
            and normalize_route(self.route) == (normalize_route(route))
        )


def normalize_route(route: str) -> str:
    """Strip the API prefix and parameter names: ``/api/v10/channels/{x}/messages`` → ``/channels/{}/messages``."""
    if route.startswith(API_PREFIX):
        route = route[len(API_PREFIX) :]
    return re.sub(r"\{[^}]*\}", "{}", route)


@dataclass
class FaultRule:
    """An injected failure for the next ``times`` matching requests."""

    method: str
    route: str
    status: int
    times: int
    retry_after: float
    is_global: bool
    body: dict[str, Any] | None
    #: Only requests whose path contains this (e.g. ``/channels/123/``); None matches every path.
    path_contains: str | None = None
    #: With ``status`` 0 the request is not failed but answered normally after this many seconds.
    delay: float = 0.0

    def response(self) -> web.Response:
        """Build the injected error response."""
        if self.status == 429:
            body = self.body or {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
            headers = {
                # discord.py only retries a 429 that came through Discord's proxy (has ``Via``);
                # one without it looks like a Cloudflare ban and is raised immediately.
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(self.retry_after))),
                "X-RateLimit-Scope": "global" if self.is_global else "user",
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            return json_response(body, status=429, headers=headers)
        reason = _REASONS.get(self.status, "Error")
        body = self.body or {"message": f"{self.status}: {reason}", "code": 0}
        return json_response(body, status=self.status)


_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.not_found() from None


def _form_error(violations: list[Violation]) -> DiscordError:
    if any(v.code == EMPTY_MESSAGE for v in violations):
        return errors.empty_message()
    return errors.invalid_form_body(errors_object(violations))


class RestApi:
    """Route handlers bound to a :class:`~fakediscord.FakeDiscord`."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world = fake.world

    # ================================================================== app & middleware
    def build_app(self) -> web.Application:
        """Create the aiohttp application with every route."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        r = app.router
        routes: list[tuple[str, str, Handler]] = [
            # session / meta
            ("GET", "/users/@me", self.get_me),
            ("PATCH", "/users/@me", self.get_me),
            ("GET", "/users/@me/guilds", self.get_my_guilds),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            # application commands
            ("GET", "/applications/{application_id}/commands", self.get_commands),
            ("PUT", "/applications/{application_id}/commands", self.put_commands),
            ("POST", "/applications/{application_id}/commands", self.post_command),
            ("GET", "/applications/{application_id}/commands/{command_id}", self.get_command),
            ("PATCH", "/applications/{application_id}/commands/{command_id}", self.patch_command),
            ("DELETE", "/applications/{application_id}/commands/{command_id}", self.delete_command),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/applications/{application_id}/guilds/{guild_id}/commands", self.post_command),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", self.get_command),
            ("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", self.patch_command),
            ("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}", self.delete_command),
            # channels & messages
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("PATCH", "/channels/{channel_id}", self.patch_channel),
            ("DELETE", "/channels/{channel_id}", self.delete_channel),
            ("GET", "/channels/{channel_id}/messages", self.get_messages),
            ("POST", "/channels/{channel_id}/messages", self.post_message),
            ("POST", "/channels/{channel_id}/messages/bulk-delete", self.bulk_delete),
            ("GET", "/channels/{channel_id}/messages/pins", self.get_pins),
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self.pin),
            ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self.unpin),
            ("GET", "/channels/{channel_id}/pins", self.get_pins_legacy),
            ("PUT", "/channels/{channel_id}/pins/{message_id}", self.pin),
            ("DELETE", "/channels/{channel_id}/pins/{message_id}", self.unpin),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.patch_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.add_reaction),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.remove_reaction),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.thread_from_message),
            ("POST", "/channels/{channel_id}/threads", self.thread_without_message),
            ("GET", "/channels/{channel_id}/threads/archived/public", self.archived_threads),
            ("GET", "/channels/{channel_id}/thread-members", self.thread_members),
            ("PUT", "/channels/{channel_id}/thread-members/@me", self.join_thread),
            ("DELETE", "/channels/{channel_id}/thread-members/@me", self.leave_thread),
            ("PUT", "/channels/{channel_id}/thread-members/{user_id}", self.add_thread_member),
            ("DELETE", "/channels/{channel_id}/thread-members/{user_id}", self.remove_thread_member),
            ("PUT", "/channels/{channel_id}/permissions/{target}", self.put_overwrite),
            ("DELETE", "/channels/{channel_id}/permissions/{target}", self.delete_overwrite),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            # guilds
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("POST", "/guilds/{guild_id}/channels", self.create_guild_channel),
            ("GET", "/guilds/{guild_id}/threads/active", self.active_threads),
            ("GET", "/guilds/{guild_id}/members", self.list_members),
            ("GET", "/guilds/{guild_id}/members/search", self.search_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("PATCH", "/guilds/{guild_id}/members/{user_id}", self.patch_member),
            ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_member_role),
            ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.remove_member_role),
            ("GET", "/guilds/{guild_id}/roles", self.get_roles),
            ("POST", "/guilds/{guild_id}/roles", self.create_role),
            ("GET", "/guilds/{guild_id}/roles/{role_id}", self.get_role),
            ("PATCH", "/guilds/{guild_id}/roles/{role_id}", self.patch_role),
            ("DELETE", "/guilds/{guild_id}/roles/{role_id}", self.delete_role),
            # interactions (same base URL as the REST API, like discord.py's Route.BASE)
            ("POST", "/interactions/{webhook_id}/{webhook_token}/callback", self.interaction_callback),
            ("POST", "/webhooks/{webhook_id}/{webhook_token}", self.followup_create),
            ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self.webhook_message_get),
            ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self.webhook_message_edit),
            ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self.webhook_message_delete),
        ]
        for method, path, handler in routes:
            r.add_route(method, API_PREFIX + path, handler)
        r.add_get("/gateway", self.fake.gateway.handle)
        r.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.cdn)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else None
        route = canonical[len(API_PREFIX) :] if canonical and canonical.startswith(API_PREFIX) else canonical
        payload, files = await self._parse_body(request)
        rec = RecordedRequest(
            method=request.method,
            path=request.path,
            route=route,
            query=dict(request.query),
            json=payload,
            files=files,
            at=asyncio.get_running_loop().time(),
        )
        request[BODY_KEY] = (payload, files)
        self.fake.requests.append(rec)
        self.fake.changed.notify()  # a request in flight is visible (e.g. one the fake stalls)
        try:
            response = await self._dispatch(request, handler, rec)
        finally:
            self.fake.changed.notify()
        rec.status = response.status
        self.fake.changed.notify()
        return response

    async def _dispatch(self, request: web.Request, handler: Handler, rec: RecordedRequest) -> web.StreamResponse:
        if rec.route is None or isinstance(request.match_info.http_exception, web.HTTPException):
            exc = request.match_info.http_exception
            self.fake.unknown_routes.append(rec)
            if isinstance(exc, web.HTTPMethodNotAllowed):
                return json_response({"message": "405: Method Not Allowed", "code": 0}, status=405)
            return json_response({"message": "404: Not Found", "code": 0}, status=404)
        rule = self.fake._take_fault(rec)
        if rule is not None and rule.status == 0:
            await asyncio.sleep(rule.delay)  # a slow Discord: answer late, but answer
        elif rule is not None:
            rec.injected = True
            return rule.response()
        if not self._auth_exempt(rec) and request.headers.get("Authorization") != f"Bot {self.fake.token}":
            err = errors.unauthorized()
            rec.response = err.body()
            return json_response(err.body(), status=err.status)
        try:
            response = await handler(request)
        except DiscordError as err:
            rec.response = err.body()
            return json_response(err.body(), status=err.status)
        if isinstance(response, web.Response) and response.body and response.content_type == "application/json":
            body = response.body
            if isinstance(body, bytes):
                rec.response = json.loads(body)
        return response

    @staticmethod
    def _auth_exempt(rec: RecordedRequest) -> bool:
        # Interaction callbacks and webhook-token routes authenticate with the token in the URL.
        route = rec.route or ""
        return route.startswith(("/interactions/", "/webhooks/")) or route.startswith("/attachments/")

    @staticmethod
    async def _parse_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if not request.body_exists:
            return None, []
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: list[UploadedFile] = []
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                name = part.name
                if name == "payload_json":
                    payload = json.loads(await part.text())
                else:
                    data = bytes(await part.read())
                    files.append(
                        UploadedFile(
                            part_name=name or "",
                            filename=part.filename or "file",
                            data=data,
                            content_type=part.headers.get("Content-Type"),
                        )
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(text='{"message": "400: Bad Request", "code": 50109}') from None

    # ================================================================== helpers
    @staticmethod
    def _json(request: web.Request) -> dict[str, Any]:
        payload, _ = request[BODY_KEY]
        return payload if isinstance(payload, dict) else {}

    @staticmethod
    def _files(request: web.Request) -> list[UploadedFile]:
        return list(request[BODY_KEY][1])

    def _guild(self, request: web.Request) -> Guild:
        guild = self.world.guilds.get(_int(request.match_info["guild_id"]))
        if guild is None:
            raise errors.unknown_guild()
        if not guild.bot_present:
            raise errors.missing_access()
        return guild

    def _channel(self, request: web.Request, *, view: bool = True) -> Channel:
        channel = self.world.channels.get(_int(request.match_info["channel_id"]))
        if channel is None:
            raise errors.unknown_channel()
        if channel.guild is not None and not channel.guild.bot_present:
            raise errors.missing_access()  # what Discord answers once the bot was removed from the server
        if view and channel.guild is not None and not self._perms(channel) & P.VIEW_CHANNEL:
            raise errors.missing_access()
        return channel

    def _message(self, request: web.Request, channel: Channel) -> Message:
        msg = self.world.messages.get(_int(request.match_info["message_id"]))
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise errors.unknown_message()
        return msg

    def _perms(self, channel: Channel) -> int:
        guild = channel.guild
        if guild is None:
            return P.ALL & ~P.ADMINISTRATOR
        return guild.permissions_for(guild.bot_member, channel)

    def _require(self, channel: Channel, needed: int) -> None:
        perms = self._perms(channel)
        if not perms & P.VIEW_CHANNEL:
            raise errors.missing_access()
        if perms & needed != needed:
            raise errors.missing_permissions()

    def _require_guild(self, guild: Guild, needed: int) -> None:
        if guild.base_permissions(guild.bot_member) & needed != needed:
            raise errors.missing_permissions()

    def _bot_top_position(self, guild: Guild) -> int:
        if guild.owner_id == self.world.bot_user.id:
            return 1 << 30
        return max((r.position for r in guild.bot_member.roles), default=0)

    def _attachments(
        self, channel_id: int, payload: dict[str, Any], files: list[UploadedFile], existing: list[Attachment]
    ) -> list[Attachment]:
        """Map ``files[n]`` parts and ``attachments`` metadata to stored attachments (kept + new)."""
        by_index: dict[int, UploadedFile] = {}
        for i, f in enumerate(files):
            m = re.fullmatch(r"files\[(\d+)\]", f.part_name)
            by_index[int(m.group(1)) if m else i] = f

        def store(f: UploadedFile, meta: dict[str, Any] | None = None) -> Attachment:
            meta = meta or {}
            return self.fake.store_attachment(
                channel_id,
                meta.get("filename") or f.filename,
                f.data,
                content_type=f.content_type,
                description=meta.get("description"),
            )

        if "attachments" not in payload:
            return existing + [store(f) for f in by_index.values()]
        result: list[Attachment] = []
        old = {a.id: a for a in existing}
        for meta in payload.get("attachments") or []:
            aid = int(meta["id"])
            if aid in by_index:
                result.append(store(by_index.pop(aid), meta))
            elif aid in old:
                result.append(old[aid])
        result += [store(f) for f in by_index.values()]
        return result

    def _validate(self, payload: dict[str, Any], file_count: int, *, check_empty: bool = True) -> None:
        violations = validate_message(payload, file_count=file_count, check_empty=check_empty)
        if violations:
            raise _form_error(violations)

    def _check_empty(self, msg: Message) -> None:
        if not (msg.content or msg.embeds or msg.components or msg.attachments or msg.poll):
            raise errors.empty_message()

    def _apply_edit(self, msg: Message, payload: dict[str, Any], files: list[UploadedFile]) -> None:
        msg.revisions.append(self.world.message_payload(msg))
        if "content" in payload:
            msg.content = payload["content"] or ""
        if "embeds" in payload:
            msg.embeds = list(payload["embeds"] or [])
        if "components" in payload:
            msg.components = list(payload["components"] or [])
        if "flags" in payload and payload["flags"] is not None:
            keep = msg.flags & (EPHEMERAL | LOADING)
            msg.flags = keep | (int(payload["flags"]) & _SETTABLE_FLAGS & ~EPHEMERAL)
        if "allowed_mentions" in payload:
            msg.allowed_mentions = payload["allowed_mentions"]
        if "poll" in payload:
            msg.poll = payload["poll"]
        if "attachments" in payload or files:
            msg.attachments = self._attachments(msg.channel_id, payload, files, msg.attachments)
        msg.edited_timestamp = iso_now()

    def _new_message(
        self,
        channel: Channel,
        payload: dict[str, Any],
        files: list[UploadedFile],
        *,
        msg_id: int | None = None,
        type_: int | None = None,
        extra_flags: int = 0,
    ) -> Message:
        """Build (not store) a bot-authored message from a create payload."""
        flags = (int(payload.get("flags") or 0) & _SETTABLE_FLAGS) | extra_flags
        ref = payload.get("message_reference")
        msg = Message(
            id=msg_id or self.world.next_id(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self.world.bot_user,
            content=payload.get("content") or "",
            embeds=list(payload.get("embeds") or []),
            components=list(payload.get("components") or []),
            flags=flags,
            type=type_ if type_ is not None else (REPLY if ref and ref.get("type", 0) == 0 else DEFAULT),
            tts=bool(payload.get("tts")),
            poll=payload.get("poll"),
            nonce=payload.get("nonce"),
            message_reference=self._reference(channel, ref) if ref else None,
            allowed_mentions=payload.get("allowed_mentions"),
        )
        msg.attachments = self._attachments(channel.id, payload, files, [])
        if not msg.ephemeral:
            msg.pinged = self.world.compute_pings(channel, msg.author, msg)
        return msg

    def _reference(self, channel: Channel, ref: dict[str, Any]) -> dict[str, Any] | None:
        target = self.world.messages.get(int(ref.get("message_id") or 0))
        if target is None or target.deleted:
            if ref.get("fail_if_not_exists", True):
                raise errors.invalid_form_body(
                    {
                        "message_reference": {
                            "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]
                        }
                    }
                )
            return None
        return {
            "type": ref.get("type", 0),
            "message_id": str(target.id),
            "channel_id": str(target.channel_id),
            "guild_id": str(target.guild_id) if target.guild_id else None,
        }

    def _embed_policy(self, channel: Channel, payload: dict[str, Any]) -> dict[str, Any]:
        if not payload.get("embeds") or self._perms(channel) & P.EMBED_LINKS:
            return payload
        if self.fake.embed_links_policy == "reject":
            raise errors.missing_permissions()
        self.fake.dropped_embeds.append(payload["embeds"])
        return {**payload, "embeds": []}

    def _dispatch_update(self, msg: Message) -> None:
        if not msg.ephemeral:
            self.world.emit("MESSAGE_UPDATE", self.world.message_payload(msg, gateway=True))

    def _dispatch_delete(self, msg: Message) -> None:
        if not msg.ephemeral:
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            self.world.emit("MESSAGE_DELETE", data)

    # ================================================================== users / meta
    async def get_me(self, request: web.Request) -> web.Response:
        """GET/PATCH /users/@me (login)."""
        me = {**self.world.bot_user.to_payload(), "verified": True, "mfa_enabled": False, "locale": "en-US"}
        return json_response({**me, "email": None, "bio": ""})

    async def get_my_guilds(self, request: web.Request) -> web.Response:
        """GET /users/@me/guilds."""
        return json_response(
            [
                {
                    "id": str(g.id),
                    "name": g.name,
                    "icon": None,
                    "banner": None,
                    "owner": g.owner_id == self.world.bot_user.id,
                    "permissions": str(g.base_permissions(g.bot_member)),
                    "features": g.features,
                }
                for g in self.world.guilds.values()
            ]
        )

    async def get_user(self, request: web.Request) -> web.Response:
        """GET /users/{user_id}."""
        user = self.world.users.get(_int(request.match_info["user_id"]))
        if user is None:
            raise errors.unknown_user()
        return json_response(user.to_payload())

    async def create_dm(self, request: web.Request) -> web.Response:
        """POST /users/@me/channels {recipient_id}."""
        user = self.world.users.get(_int(self._json(request).get("recipient_id")))
        if user is None:
            raise errors.unknown_user()
        return json_response(self.world.dm_channel(user).to_payload())

    async def get_gateway(self, request: web.Request) -> web.Response:
        """GET /gateway."""
        return json_response({"url": self.fake.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        """GET /gateway/bot."""
        return json_response(
            {
                "url": self.fake.gateway_url,
                "shards": self.fake.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": self.fake.max_concurrency,
                },
            }
        )

    async def get_application(self, request: web.Request) -> web.Response:
        """GET /oauth2/applications/@me (``Client.application_info``; owner used by is_owner)."""
        from .intents import application_flags

        w = self.world
        return json_response(
            {
                "id": str(w.application_id),
                "name": w.application_name,
                "icon": None,
                "description": "A fake application served by fakediscord.",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": application_flags(self.fake.gateway.privileged_intents),
                "owner": w.application_owner.to_payload(),
                "team": None,
                "bot": w.bot_user.to_payload(),
                "rpc_origins": [],
                "tags": [],
                "install_params": {"scopes": ["bot", "applications.commands"], "permissions": str(P.DEFAULT_BOT)},
                "integration_types_config": {"0": {}},
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "approximate_guild_count": len(w.guilds),
                "approximate_user_install_count": 0,
                "redirect_uris": [],
                "custom_install_url": None,
                "terms_of_service_url": None,
                "privacy_policy_url": None,
                "cover_image": None,
                "primary_sku_id": None,
                "slug": None,
                "guild_id": None,
                "event_webhooks_url": None,
                "event_webhooks_status": 1,
                "event_webhooks_types": [],
            }
        )

    # ================================================================== application commands
    def _command_scope(self, request: web.Request) -> tuple[int | None, list[dict[str, Any]]]:
        if _int(request.match_info["application_id"]) != self.world.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        if "guild_id" in request.match_info:
            guild = self._guild(request)
            return guild.id, self.fake.guild_commands.setdefault(guild.id, [])
        return None, self.fake.global_commands

    def _stored_command(self, data: dict[str, Any], guild_id: int | None, old: dict[str, Any] | None) -> dict[str, Any]:
        cmd = {k: v for k, v in data.items() if k not in ("id", "application_id", "version", "guild_id")}
        cmd.setdefault("type", 1)
        cmd.setdefault("description", "" if cmd["type"] != 1 else cmd.get("description"))
        cmd.setdefault("options", [])
        cmd.setdefault("default_member_permissions", None)
        cmd.setdefault("nsfw", False)
        cmd.setdefault("contexts", None)
        cmd.setdefault("integration_types", [0])
        cmd.setdefault("name_localizations", None)
        cmd.setdefault("description_localizations", None)
        changed = old is None or any(old.get(k) != v for k, v in cmd.items())
        cmd["id"] = old["id"] if old else str(self.world.next_id())
        cmd["application_id"] = str(self.world.application_id)
        cmd["version"] = str(self.world.next_id()) if changed else old["version"]  # type: ignore[index]
        if guild_id is not None:
            cmd["guild_id"] = str(guild_id)
        else:
            cmd.setdefault("dm_permission", True)
        return cmd

    async def get_commands(self, request: web.Request) -> web.Response:
        """GET (global|guild) commands."""
        _, store = self._command_scope(request)
        return json_response(store)

    async def put_commands(self, request: web.Request) -> web.Response:
        """PUT bulk overwrite (what ``CommandTree.sync`` does); counted in ``fake.command_syncs``."""
        guild_id, store = self._command_scope(request)
        payload, _ = request[BODY_KEY]
        commands = payload if isinstance(payload, list) else []
        violations = _validate_commands(commands)
        if violations:
            raise errors.invalid_form_body(errors_object(violations))
        old = {(c["name"], int(c.get("type") or 1)): c for c in store}
        new = [self._stored_command(c, guild_id, old.get((c["name"], int(c.get("type") or 1)))) for c in commands]
        store[:] = new
        self.fake._record_sync(guild_id, new)
        return json_response(new)

    async def post_command(self, request: web.Request) -> web.Response:
        """POST upsert one command."""
        guild_id, store = self._command_scope(request)
        data = self._json(request)
        violations = _validate_commands([data])
        if violations:
            raise errors.invalid_form_body(errors_object(violations))
        key = (data.get("name"), int(data.get("type") or 1))
        old = next((c for c in store if (c["name"], int(c.get("type") or 1)) == key), None)
        cmd = self._stored_command(data, guild_id, old)
        if old is not None:
            store[store.index(old)] = cmd
        else:
            store.append(cmd)
        return json_response(cmd, status=200 if old else 201)

    def _find_command(self, request: web.Request) -> tuple[list[dict[str, Any]], dict[str, Any], int | None]:
        guild_id, store = self._command_scope(request)
        cid = request.match_info["command_id"]
        cmd = next((c for c in store if c["id"] == cid), None)
        if cmd is None:
            raise errors.unknown_command()
        return store, cmd, guild_id

    async def get_command(self, request: web.Request) -> web.Response:
        """GET one command."""
        _, cmd, _ = self._find_command(request)
        return json_response(cmd)

    async def patch_command(self, request: web.Request) -> web.Response:
        """PATCH one command."""
        store, cmd, guild_id = self._find_command(request)
        new = self._stored_command({**cmd, **self._json(request)}, guild_id, cmd)
        store[store.index(cmd)] = new
        return json_response(new)

    async def delete_command(self, request: web.Request) -> web.Response:
        """DELETE one command."""
        store, cmd, _ = self._find_command(request)
        store.remove(cmd)
        return web.Response(status=204)

    # ================================================================== channels
    async def get_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id}."""
        return json_response(self._channel(request).to_payload())

    async def patch_channel(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}: thread archive/lock/name/tags, channel name/topic/slowmode."""
        channel = self._channel(request)
        data = self._json(request)
        guild = self.world.guild_of(channel)
        if channel.is_thread:
            own = channel.owner_id == self.world.bot_user.id
            if not own or "locked" in data:
                self._require(channel, P.MANAGE_THREADS)
            for key in ("name", "archived", "locked", "auto_archive_duration", "rate_limit_per_user", "invitable"):
                if key in data:
                    setattr(channel, key, data[key])
            if "applied_tags" in data:
                channel.applied_tags = [int(t) for t in data["applied_tags"]]
            if "archived" in data:
                channel.archive_timestamp = iso_now()
        else:
            self._require(channel, P.MANAGE_CHANNELS)
            for key in ("name", "topic", "nsfw", "rate_limit_per_user", "position"):
                if key in data:
                    setattr(channel, key, data[key])
        guild.edit_channel(channel)
        return json_response(channel.to_payload())

    async def delete_channel(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}."""
        channel = self._channel(request)
        self._require(channel, P.MANAGE_THREADS if channel.is_thread else P.MANAGE_CHANNELS)
        self.world.guild_of(channel).delete_channel(channel)
        return json_response(channel.to_payload())

    async def get_messages(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages?limit&before&after&around (newest first, like Discord)."""
        channel = self._channel(request)
        if not self._perms(channel) & P.READ_MESSAGE_HISTORY:
            return json_response([])
        q = request.query
        limit = max(1, min(100, int(q.get("limit", 50))))
        msgs = self.world.messages_in(channel)
        if "before" in q:
            msgs = [m for m in msgs if m.id < int(q["before"])]
        if "after" in q:
            msgs = [m for m in msgs if m.id > int(q["after"])][:limit]
        if "around" in q:
            pivot = int(q["around"])
            older = [m for m in msgs if m.id <= pivot][-(limit // 2 + limit % 2) :]
            newer = [m for m in msgs if m.id > pivot][: limit // 2]
            msgs = older + newer
        msgs = msgs[-limit:]
        return json_response([self.world.message_payload(m) for m in reversed(msgs)])

    async def post_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages (JSON or multipart)."""
        channel = self._channel(request)
        payload = self._json(request)
        files = self._files(request)
        if channel.type in (GUILD_FORUM, GUILD_CATEGORY):
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.guild is not None:
            needed = P.VIEW_CHANNEL | (P.SEND_MESSAGES_IN_THREADS if channel.is_thread else P.SEND_MESSAGES)
            if files:
                needed |= P.ATTACH_FILES
            if payload.get("message_reference"):
                needed |= P.READ_MESSAGE_HISTORY
            self._require(channel, needed)
            if channel.is_thread and channel.locked and not self._perms(channel) & P.MANAGE_THREADS:
                raise DiscordError(400, 50083, "Thread is locked")
            payload = self._embed_policy(channel, payload)
        self._validate(payload, len(files))
        if payload.get("flags") and int(payload["flags"]) & EPHEMERAL:
            raise errors.invalid_form_body(
                {"flags": {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": "EPHEMERAL needs an interaction"}]}}
            )
        msg = self._new_message(channel, payload, files)
        if channel.is_thread and channel.archived:
            channel.archived = False  # sending in an archived (unlocked) thread unarchives it
            self.world.emit("THREAD_UPDATE", channel.to_payload())
        self.world.add_message(channel, msg)
        return json_response(self.world.message_payload(msg))

    async def get_message(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages/{mid}."""
        channel = self._channel(request)
        self._require(channel, P.READ_MESSAGE_HISTORY)
        return json_response(self.world.message_payload(self._message(request, channel)))

    async def patch_message(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}/messages/{mid}: only own messages (50005), except flags with MANAGE_MESSAGES."""
        channel = self._channel(request)
        msg = self._message(request, channel)
        payload = self._json(request)
        files = self._files(request)
        if msg.author.id != self.world.bot_user.id:
            if set(payload) - {"flags"}:
                raise errors.other_users_message()
            self._require(channel, P.MANAGE_MESSAGES)
        self._validate(payload, len(files), check_empty=False)
        self._apply_edit(msg, payload, files)
        self._check_empty(msg)
        self._dispatch_update(msg)
        return json_response(self.world.message_payload(msg))

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/messages/{mid}: own messages, or anyone's with MANAGE_MESSAGES."""
        channel = self._channel(request)
        msg = self._message(request, channel)
        if msg.author.id != self.world.bot_user.id:
            self._require(channel, P.MANAGE_MESSAGES)
        msg.deleted = True
        self._dispatch_delete(msg)
        return web.Response(status=204)

    async def bulk_delete(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages/bulk-delete (2-100 ids, MANAGE_MESSAGES)."""
        channel = self._channel(request)
        self._require(channel, P.MANAGE_MESSAGES)
        ids = [int(i) for i in self._json(request).get("messages") or []]
        if not 2 <= len(ids) <= 100:
            raise errors.invalid_form_body(
                {"messages": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 2 and 100"}]}}
            )
        for mid in ids:
            msg = self.world.messages.get(mid)
            if msg is not None and msg.channel_id == channel.id:
                msg.deleted = True
        data: dict[str, Any] = {"ids": [str(i) for i in ids], "channel_id": str(channel.id)}
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        self.world.emit("MESSAGE_DELETE_BULK", data)
        return web.Response(status=204)

    def _pins(self, channel: Channel) -> list[Message]:
        return [m for m in reversed(self.world.messages_in(channel)) if m.pinned]

    async def get_pins(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages/pins."""
        channel = self._channel(request)
        items = [{"pinned_at": m.timestamp, "message": self.world.message_payload(m)} for m in self._pins(channel)]
        return json_response({"items": items, "has_more": False})

    async def get_pins_legacy(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/pins (deprecated list form)."""
        channel = self._channel(request)
        return json_response([self.world.message_payload(m) for m in self._pins(channel)])

    def _require_pin(self, channel: Channel) -> None:
        # Discord is moving pinning from MANAGE_MESSAGES to the new PIN_MESSAGES bit; accept either.
        perms = self._perms(channel)
        if not perms & P.VIEW_CHANNEL:
            raise errors.missing_access()
        if not perms & (P.MANAGE_MESSAGES | P.PIN_MESSAGES):
            raise errors.missing_permissions()

    async def _set_pinned(self, request: web.Request, pinned: bool) -> web.Response:
        channel = self._channel(request)
        self._require_pin(channel)
        msg = self._message(request, channel)
        msg.pinned = pinned
        data: dict[str, Any] = {"channel_id": str(channel.id), "last_pin_timestamp": iso_now()}
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        self.world.emit("CHANNEL_PINS_UPDATE", data)
        self._dispatch_update(msg)
        return web.Response(status=204)

    async def pin(self, request: web.Request) -> web.Response:
        """PUT pins/{mid} (MANAGE_MESSAGES or PIN_MESSAGES)."""
        return await self._set_pinned(request, True)

    async def unpin(self, request: web.Request) -> web.Response:
        """DELETE pins/{mid}."""
        return await self._set_pinned(request, False)

    async def _react(self, request: web.Request, add: bool) -> web.Response:
        channel = self._channel(request)
        if add:
            self._require(channel, P.ADD_REACTIONS | P.READ_MESSAGE_HISTORY)
        msg = self._message(request, channel)
        emoji = request.match_info["emoji"]
        users = msg.reactions.setdefault(emoji, set())
        bot_id = self.world.bot_user.id
        (users.add if add else users.discard)(bot_id)
        name, _, eid = emoji.partition(":")
        data: dict[str, Any] = {
            "user_id": str(bot_id),
            "channel_id": str(channel.id),
            "message_id": str(msg.id),
            "emoji": {"id": eid or None, "name": name},
            "burst": False,
            "type": 0,
        }
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        self.world.emit("MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE", data)
        return web.Response(status=204)

    async def add_reaction(self, request: web.Request) -> web.Response:
        """PUT reactions/{emoji}/@me."""
        return await self._react(request, True)

    async def remove_reaction(self, request: web.Request) -> web.Response:
        """DELETE reactions/{emoji}/@me."""
        return await self._react(request, False)

    async def typing(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/typing."""
        self._channel(request)
        return web.Response(status=204)

    # ================================================================== threads
    def _create_thread(
        self, parent: Channel, name: str, type_: int, data: dict[str, Any], thread_id: int | None = None
    ) -> Channel:
        guild = self.world.guild_of(parent)
        if not name or len(name) > 100:
            raise errors.invalid_form_body(
                {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 100"}]}}
            )
        thread = guild.add_thread(
            parent,
            name,
            owner=guild.bot_member,
            type=type_,
            applied_tags=[int(t) for t in data.get("applied_tags") or []],
            thread_id=thread_id,
        )
        thread.auto_archive_duration = int(data.get("auto_archive_duration") or 1440)
        thread.rate_limit_per_user = int(data.get("rate_limit_per_user") or 0)
        if "invitable" in data:
            thread.invitable = bool(data["invitable"])
        return thread

    async def thread_from_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages/{mid}/threads (thread id == message id, like Discord)."""
        channel = self._channel(request)
        if channel.type != GUILD_TEXT and channel.type != 5:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        self._require(channel, P.CREATE_PUBLIC_THREADS)
        msg = self._message(request, channel)
        if msg.thread_id is not None:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        data = self._json(request)
        thread = self._create_thread(channel, data.get("name") or "", PUBLIC_THREAD, data, thread_id=msg.id)
        msg.thread_id = thread.id
        self._dispatch_update(msg)
        return json_response(thread.to_payload(), status=201)

    async def thread_without_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/threads: a thread in a text channel, or a post (thread + first message) in a forum."""
        channel = self._channel(request)
        data = self._json(request)
        files = self._files(request)
        if channel.type == GUILD_FORUM:
            message = dict(data.get("message") or {})
            needed = P.VIEW_CHANNEL | P.SEND_MESSAGES | (P.ATTACH_FILES if files else 0)
            self._require(channel, needed)
            message = self._embed_policy(channel, message)
            violations = [
                Violation(("message", *v.path), v.code, v.message) if v.code != EMPTY_MESSAGE else v
                for v in validate_message(message, file_count=len(files))
            ]
            if violations:
                raise _form_error(violations)
            known_tags = {int(t["id"]) for t in channel.available_tags}
            unknown = [t for t in data.get("applied_tags") or [] if int(t) not in known_tags]
            if unknown:
                raise errors.invalid_form_body(
                    {"applied_tags": {"_errors": [{"code": "UNKNOWN_TAG", "message": f"Unknown tags {unknown}"}]}}
                )
            starter_id = self.world.next_id()
            thread = self._create_thread(channel, data.get("name") or "", PUBLIC_THREAD, data, thread_id=starter_id)
            msg = self._new_message(thread, message, files, msg_id=starter_id, type_=DEFAULT)
            self.world.add_message(thread, msg)
            return json_response({**thread.to_payload(), "message": self.world.message_payload(msg)}, status=201)
        if channel.type not in (GUILD_TEXT, 5):
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        type_ = int(data.get("type") or PRIVATE_THREAD)
        self._require(channel, P.CREATE_PRIVATE_THREADS if type_ == PRIVATE_THREAD else P.CREATE_PUBLIC_THREADS)
        thread = self._create_thread(channel, data.get("name") or "", type_, data)
        return json_response(thread.to_payload(), status=201)

    async def archived_threads(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/threads/archived/public."""
        channel = self._channel(request)
        self._require(channel, P.READ_MESSAGE_HISTORY)
        guild = self.world.guild_of(channel)
        threads = [t for t in guild.threads if t.parent_id == channel.id and t.archived and t.type == PUBLIC_THREAD]
        return json_response({"threads": [t.to_payload() for t in threads], "members": [], "has_more": False})

    async def active_threads(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/threads/active."""
        guild = self._guild(request)
        threads = [t.to_payload() for t in guild.threads if not t.archived]
        return json_response({"threads": threads, "members": []})

    def _thread(self, request: web.Request) -> Channel:
        thread = self._channel(request)
        if not thread.is_thread:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        return thread

    def _thread_member_payload(self, thread: Channel, user_id: int) -> dict[str, Any]:
        return {"id": str(thread.id), "user_id": str(user_id), "join_timestamp": iso_now(), "flags": 0}

    async def thread_members(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/thread-members."""
        thread = self._thread(request)
        return json_response([self._thread_member_payload(thread, u) for u in sorted(thread.member_ids)])

    async def _thread_membership(self, request: web.Request, user_id: int, join: bool) -> web.Response:
        thread = self._thread(request)
        if user_id != self.world.bot_user.id:
            self._require(thread, P.SEND_MESSAGES_IN_THREADS)
        (thread.member_ids.add if join else thread.member_ids.discard)(user_id)
        data: dict[str, Any] = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "member_count": len(thread.member_ids),
        }
        if join:
            data["added_members"] = [self._thread_member_payload(thread, user_id)]
        else:
            data["removed_member_ids"] = [str(user_id)]
        self.world.emit("THREAD_MEMBERS_UPDATE", data)
        return web.Response(status=204)

    async def join_thread(self, request: web.Request) -> web.Response:
        """PUT thread-members/@me."""
        return await self._thread_membership(request, self.world.bot_user.id, True)

    async def leave_thread(self, request: web.Request) -> web.Response:
        """DELETE thread-members/@me."""
        return await self._thread_membership(request, self.world.bot_user.id, False)

    async def add_thread_member(self, request: web.Request) -> web.Response:
        """PUT thread-members/{user_id}."""
        return await self._thread_membership(request, _int(request.match_info["user_id"]), True)

    async def remove_thread_member(self, request: web.Request) -> web.Response:
        """DELETE thread-members/{user_id}."""
        return await self._thread_membership(request, _int(request.match_info["user_id"]), False)

    async def put_overwrite(self, request: web.Request) -> web.Response:
        """PUT /channels/{id}/permissions/{target} (MANAGE_ROLES)."""
        channel = self._channel(request)
        self._require(channel, P.MANAGE_ROLES)
        guild = self.world.guild_of(channel)
        data = self._json(request)
        target_id = _int(request.match_info["target"])
        target = guild.roles.get(target_id) if int(data.get("type", 0)) == 0 else guild.members.get(target_id)
        if target is None:
            raise errors.unknown_role() if int(data.get("type", 0)) == 0 else errors.unknown_member()
        guild.set_overwrite(channel, target, allow=int(data.get("allow") or 0), deny=int(data.get("deny") or 0))
        return web.Response(status=204)

    async def delete_overwrite(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/permissions/{target}."""
        channel = self._channel(request)
        self._require(channel, P.MANAGE_ROLES)
        channel.overwrites.pop(_int(request.match_info["target"]), None)
        self.world.emit("CHANNEL_UPDATE", channel.to_payload())
        return web.Response(status=204)

    # ================================================================== guilds
    async def get_guild(self, request: web.Request) -> web.Response:
        """GET /guilds/{id} (``with_counts`` adds approximate counts)."""
        guild = self._guild(request)
        data = guild.to_payload()
        for key in ("members", "channels", "threads", "presences", "voice_states", "joined_at", "large", "lazy"):
            data.pop(key, None)
        data.pop("member_count", None)
        if request.query.get("with_counts") in ("true", "1", "True"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return json_response(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/channels (no threads, like Discord)."""
        guild = self._guild(request)
        return json_response([c.to_payload() for c in guild.channels.values() if not c.is_thread])

    async def create_guild_channel(self, request: web.Request) -> web.Response:
        """POST /guilds/{id}/channels (MANAGE_CHANNELS): text, category or forum."""
        guild = self._guild(request)
        self._require_guild(guild, P.MANAGE_CHANNELS)
        data = self._json(request)
        ctype = int(data.get("type") or 0)
        parent = guild.channels.get(int(data["parent_id"])) if data.get("parent_id") else None
        if ctype == GUILD_CATEGORY:
            channel = guild.add_category(data["name"])
        elif ctype == GUILD_FORUM:
            channel = guild.add_forum_channel(
                data["name"], tags=[t["name"] for t in data.get("available_tags") or []], category=parent
            )
        else:
            channel = guild.add_text_channel(data["name"], topic=data.get("topic"), category=parent)
        for ow in data.get("permission_overwrites") or []:
            channel.overwrites[int(ow["id"])] = Overwrite(
                id=int(ow["id"]), type=int(ow["type"]), allow=int(ow.get("allow") or 0), deny=int(ow.get("deny") or 0)
            )
        return json_response(channel.to_payload(), status=201)

    async def list_members(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members?limit&after."""
        guild = self._guild(request)
        after = int(request.query.get("after", 0))
        limit = max(1, min(1000, int(request.query.get("limit", 1))))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)[:limit]
        return json_response([m.to_payload() for m in members])

    async def search_members(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members/search?query&limit."""
        guild = self._guild(request)
        query = request.query.get("query", "").lower()
        limit = max(1, min(1000, int(request.query.get("limit", 1))))
        found = [
            m
            for m in guild.members.values()
            if m.user.username.lower().startswith(query) or (m.nick or "").lower().startswith(query)
        ]
        return json_response([m.to_payload() for m in found[:limit]])

    def _member(self, request: web.Request, guild: Guild) -> Any:
        member = guild.members.get(_int(request.match_info["user_id"]))
        if member is None:
            raise errors.unknown_member()
        return member

    async def get_member(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members/{uid}."""
        guild = self._guild(request)
        return json_response(self._member(request, guild).to_payload())

    def _check_role_hierarchy(self, guild: Guild, role_ids: list[int]) -> None:
        self._require_guild(guild, P.MANAGE_ROLES)
        top = self._bot_top_position(guild)
        for rid in role_ids:
            role = guild.roles.get(rid)
            if role is None:
                raise errors.unknown_role()
            if role.position >= top or role.managed:
                raise errors.missing_permissions()

    async def patch_member(self, request: web.Request) -> web.Response:
        """PATCH /guilds/{id}/members/{uid}: roles (MANAGE_ROLES + hierarchy), nick (MANAGE_NICKNAMES)."""
        guild = self._guild(request)
        member = self._member(request, guild)
        data = self._json(request)
        if "roles" in data:
            new = [int(r) for r in data["roles"]]
            self._check_role_hierarchy(guild, list(set(new) ^ set(member.role_ids)))
            member.role_ids = new
        if "nick" in data:
            self._require_guild(guild, P.MANAGE_NICKNAMES)
            member.nick = data["nick"]
        guild._member_updated(member)
        return json_response(member.to_payload())

    async def add_member_role(self, request: web.Request) -> web.Response:
        """PUT /guilds/{id}/members/{uid}/roles/{rid}."""
        guild = self._guild(request)
        member = self._member(request, guild)
        rid = _int(request.match_info["role_id"])
        self._check_role_hierarchy(guild, [rid])
        guild.give_role(member, guild.roles[rid])
        return web.Response(status=204)

    async def remove_member_role(self, request: web.Request) -> web.Response:
        """DELETE /guilds/{id}/members/{uid}/roles/{rid}."""
        guild = self._guild(request)
        member = self._member(request, guild)
        rid = _int(request.match_info["role_id"])
        self._check_role_hierarchy(guild, [rid])
        guild.take_role(member, guild.roles[rid])
        return web.Response(status=204)

    async def get_roles(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/roles."""
        return json_response([r.to_payload() for r in self._guild(request).roles.values()])

    def _role(self, request: web.Request, guild: Guild) -> Any:
        role = guild.roles.get(_int(request.match_info["role_id"]))
        if role is None:
            raise errors.unknown_role()
        return role

    async def get_role(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/roles/{rid}."""
        guild = self._guild(request)
        return json_response(self._role(request, guild).to_payload())

    async def create_role(self, request: web.Request) -> web.Response:
        """POST /guilds/{id}/roles (MANAGE_ROLES)."""
        guild = self._guild(request)
        self._require_guild(guild, P.MANAGE_ROLES)
        data = self._json(request)
        role = guild.add_role(
            data.get("name") or "new role",
            int(data.get("permissions") or 0),
            mentionable=bool(data.get("mentionable")),
            hoist=bool(data.get("hoist")),
            color=int(data.get("color") or 0),
        )
        return json_response(role.to_payload())

    async def patch_role(self, request: web.Request) -> web.Response:
        """PATCH /guilds/{id}/roles/{rid}."""
        guild = self._guild(request)
        role = self._role(request, guild)
        self._check_role_hierarchy(guild, [role.id])
        data = self._json(request)
        guild.edit_role(
            role,
            permissions=int(data["permissions"]) if "permissions" in data else None,
            name=data.get("name"),
            mentionable=data.get("mentionable"),
        )
        return json_response(role.to_payload())

    async def delete_role(self, request: web.Request) -> web.Response:
        """DELETE /guilds/{id}/roles/{rid}."""
        guild = self._guild(request)
        role = self._role(request, guild)
        self._check_role_hierarchy(guild, [role.id])
        guild.delete_role(role)
        return web.Response(status=204)

    # ================================================================== interactions
    def _interaction_message(
        self,
        inter: Interaction,
        payload: dict[str, Any],
        files: list[UploadedFile],
        *,
        extra_flags: int = 0,
        followup: bool = False,
    ) -> Message:
        """Create a message through the interaction webhook (no channel permission checks)."""
        msg = self._new_message(
            inter.channel,
            payload,
            files,
            type_=CHAT_INPUT_COMMAND if inter.type in (APPLICATION_COMMAND, APPLICATION_COMMAND_AUTOCOMPLETE) else 0,
            extra_flags=extra_flags,
        )
        msg.webhook_id = self.world.application_id
        msg.application_id = self.world.application_id
        owners = inter.payload.get("authorizing_integration_owners") or {}
        metadata: dict[str, Any] = {
            "id": str(inter.id),
            "type": inter.type,
            "user": inter.user.to_payload(),
            "authorizing_integration_owners": owners,
        }
        if inter.type == APPLICATION_COMMAND:
            metadata["name"] = inter.payload["data"].get("name")
            metadata["command_type"] = inter.payload["data"].get("type", 1)
            msg.interaction = {
                "id": str(inter.id),
                "type": inter.type,
                "name": inter.payload["data"].get("name"),
                "user": inter.user.to_payload(),
            }
        elif inter.type == MESSAGE_COMPONENT and inter.message_id is not None:
            metadata["interacted_message_id"] = str(inter.message_id)
        if followup and inter.original_message_id is not None:
            metadata["original_response_message_id"] = str(inter.original_message_id)
        msg.interaction_metadata = metadata
        if msg.ephemeral:
            msg.visible_to = inter.user.id
        return msg

    def _callback_types(self, inter: Interaction) -> set[int]:
        if inter.type == APPLICATION_COMMAND:
            return {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL}
        if inter.type == APPLICATION_COMMAND_AUTOCOMPLETE:
            return {APPLICATION_COMMAND_AUTOCOMPLETE_RESULT}
        if inter.type == MESSAGE_COMPONENT:
            return {
                CHANNEL_MESSAGE_WITH_SOURCE,
                DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
                DEFERRED_UPDATE_MESSAGE,
                UPDATE_MESSAGE,
                MODAL,
            }
        if inter.type == MODAL_SUBMIT:
            types = {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE}
            if inter.message_id is not None:
                types |= {DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE}
            return types
        return set()

    async def interaction_callback(self, request: web.Request) -> web.Response:
        """POST /interactions/{id}/{token}/callback: enforce the 3 s window and single ack."""
        inter = self.fake._interactions.get(_int(request.match_info["webhook_id"]))
        loop_now = asyncio.get_running_loop().time()
        try:
            if inter is None or inter.token != request.match_info["webhook_token"]:
                raise errors.unknown_interaction()
            if inter.callback is not None:
                raise errors.already_acknowledged()
            if loop_now - inter.dispatched_at > self.fake.ack_deadline:
                raise errors.unknown_interaction()
            return self._handle_callback(request, inter, loop_now)
        except DiscordError as err:
            if inter is not None:
                inter.rejected.append((err.status, err.body()))
            raise

    def _handle_callback(self, request: web.Request, inter: Interaction, now: float) -> web.Response:
        body = self._json(request)
        files = self._files(request)
        ctype = int(body.get("type") or 0)
        data = dict(body.get("data") or {})
        if ctype not in self._callback_types(inter):
            raise errors.invalid_form_body(
                {"type": {"_errors": [{"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": "Invalid type"}]}}
            )
        response_msg: Message | None = None
        if ctype == CHANNEL_MESSAGE_WITH_SOURCE:
            self._validate(data, len(files))
            response_msg = self._interaction_message(inter, data, files)
            self.world.add_message(inter.channel, response_msg)
            inter.original_message_id = response_msg.id
        elif ctype == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            flags = int(data.get("flags") or 0) & EPHEMERAL
            response_msg = self._interaction_message(inter, {"flags": flags}, [], extra_flags=LOADING)
            self.world.add_message(inter.channel, response_msg)
            inter.original_message_id = response_msg.id
        elif ctype in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            inter.original_message_id = inter.message_id
            if ctype == UPDATE_MESSAGE:
                target = self.world.messages.get(inter.message_id or 0)
                if target is None:
                    raise errors.unknown_message()
                self._validate(data, len(files), check_empty=False)
                self._apply_edit(target, data, files)
                self._check_empty(target)
                inter.original_edits += 1
                self._dispatch_update(target)
                response_msg = target
        elif ctype == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            violations = validate_autocomplete(data)
            if violations:
                raise errors.invalid_form_body(errors_object(violations))
        elif ctype == MODAL:
            violations = validate_modal(data)
            if violations:
                raise errors.invalid_form_body(errors_object(violations))
        inter.callback = CallbackRecord(ctype, data, now)
        self.fake.changed.notify()
        callback: dict[str, Any] = {"id": str(inter.id), "type": inter.type}
        result: dict[str, Any] = {"interaction": callback}
        if response_msg is not None:
            callback["response_message_id"] = str(response_msg.id)
            callback["response_message_loading"] = response_msg.loading
            callback["response_message_ephemeral"] = response_msg.ephemeral
            result["resource"] = {"type": ctype, "message": self.world.message_payload(response_msg)}
        return json_response(result)

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        token = request.match_info["webhook_token"]
        inter = self.fake._interactions_by_token.get(token)
        if inter is None or _int(request.match_info["webhook_id"]) != self.world.application_id:
            raise errors.unknown_webhook()
        if asyncio.get_running_loop().time() - inter.dispatched_at > self.fake.followup_ttl:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if inter.callback is None:
            # Discord only creates the interaction webhook once the interaction is acknowledged.
            raise errors.unknown_webhook()
        return inter

    async def followup_create(self, request: web.Request) -> web.Response:
        """POST /webhooks/{app_id}/{token}: follow-up message (flags 64 = ephemeral)."""
        inter = self._webhook_interaction(request)
        payload = self._json(request)
        files = self._files(request)
        self._validate(payload, len(files))
        original = inter.original_message
        assert inter.callback is not None
        if inter.callback.type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE and original is not None and original.loading:
            # After a "thinking" defer, Discord turns the first follow-up into the original response
            # (keeping the defer's ephemerality) instead of posting a second message.
            self._apply_edit(original, {k: v for k, v in payload.items() if k != "flags"}, files)
            original.flags &= ~LOADING
            if not original.ephemeral:
                original.pinged = self.world.compute_pings(inter.channel, original.author, original)
            inter.followup_ids.append(original.id)
            self._dispatch_update(original)
            msg = original
        else:
            msg = self._interaction_message(inter, payload, files, followup=True)
            self.world.add_message(inter.channel, msg)
            inter.followup_ids.append(msg.id)
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(self.world.message_payload(msg))
        return web.Response(status=204)

    def _webhook_message(self, request: web.Request, inter: Interaction) -> Message:
        mid = request.match_info["message_id"]
        msg_id = inter.original_message_id if mid == "@original" else _int(mid)
        if msg_id is None or (mid != "@original" and msg_id not in inter.followup_ids):
            raise errors.unknown_message()
        msg = self.world.messages.get(msg_id)
        if msg is None or msg.deleted:
            raise errors.unknown_message()
        return msg

    async def webhook_message_get(self, request: web.Request) -> web.Response:
        """GET /webhooks/{app_id}/{token}/messages/{@original|id}."""
        inter = self._webhook_interaction(request)
        return json_response(self.world.message_payload(self._webhook_message(request, inter)))

    async def webhook_message_edit(self, request: web.Request) -> web.Response:
        """PATCH /webhooks/{app_id}/{token}/messages/{@original|id}."""
        inter = self._webhook_interaction(request)
        msg = self._webhook_message(request, inter)
        payload = self._json(request)
        files = self._files(request)
        self._validate(payload, len(files), check_empty=False)
        was_loading = msg.loading
        self._apply_edit(msg, payload, files)
        msg.flags &= ~LOADING
        self._check_empty(msg)
        if was_loading and not msg.ephemeral:
            # Replacing the "thinking" placeholder is the real answer: it pings like a new message.
            msg.pinged = self.world.compute_pings(inter.channel, msg.author, msg)
        elif msg.ephemeral:
            msg.pinged = Pings()
        if msg.id == inter.original_message_id:
            inter.original_edits += 1
        self._dispatch_update(msg)
        return json_response(self.world.message_payload(msg))

    async def webhook_message_delete(self, request: web.Request) -> web.Response:
        """DELETE /webhooks/{app_id}/{token}/messages/{@original|id}."""
        inter = self._webhook_interaction(request)
        msg = self._webhook_message(request, inter)
        msg.deleted = True
        self._dispatch_delete(msg)
        return web.Response(status=204)

    # ================================================================== CDN
    async def cdn(self, request: web.Request) -> web.Response:
        """GET /attachments/{channel_id}/{attachment_id}/{filename}: the uploaded bytes."""
        attachment = self.world.attachments.get(_int(request.match_info["attachment_id"]))
        if attachment is None or attachment.filename != request.match_info["filename"]:
            return web.Response(status=404, text="asset not found")
        return web.Response(body=attachment.data, content_type=attachment.content_type or "application/octet-stream")
