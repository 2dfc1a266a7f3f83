"""Acting as a member: building realistic INTERACTION_CREATE payloads and tracking the bot's answers.

The payload builders here resolve a command name ("group sub leaf") against the commands the
bot *registered* with the fake, convert test-friendly option values (``Member``, ``Channel``,
``Role``, :class:`Upload`...) into Discord's option objects plus ``resolved`` data, and build
component / modal-submit payloads from the actual message or modal the bot sent. Mistakes a
real Discord client would never let a user make (unknown option, value outside the choices,
clicking a button that is not on the message...) raise :class:`InvalidInteraction` in the test.

:class:`Interaction` is the handle tests get back; the server fills in ``callback``,
``original_message_id`` and ``followup_ids`` as the bot answers.
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .limits import iter_components
from .permissions import Permissions
from .sharding import Shard
from .world import EPHEMERAL, Attachment, Channel, Member, Message, Role, User

if TYPE_CHECKING:
    from .fake import FakeDiscord

# Interaction types
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Callback (response) types
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Application command option types
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class InvalidInteraction(AssertionError):
    """The test tried something a real Discord client would not allow (raised in the test)."""


class CommandNotRegistered(InvalidInteraction):
    """The named command (or subcommand) was never registered/synced by the bot."""


@dataclass
class Upload:
    """A file a test "uploads" as an attachment option value."""

    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None


@dataclass
class CallbackRecord:
    """The bot's interaction callback: response ``type`` and its ``data`` (as sent)."""

    type: int
    data: dict[str, Any]
    at: float

    @property
    def ephemeral(self) -> bool:
        """Whether the response (message or defer) carried the EPHEMERAL flag."""
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


@dataclass(eq=False)
class Interaction:
    """Handle for one interaction the fake sent; records everything the bot answered."""

    fake: FakeDiscord = field(repr=False)
    id: int
    token: str
    type: int
    user: User
    member: Member | None
    channel: Channel
    payload: dict[str, Any] = field(repr=False)
    dispatched_at: float
    #: For component interactions and modal submits from components: the message interacted with.
    message_id: int | None = None
    #: For modal submits: the interaction that opened the modal.
    parent: Interaction | None = field(default=None, repr=False)
    callback: CallbackRecord | None = None
    #: Callback attempts rejected by the fake (late, duplicate, invalid), as (status, body).
    rejected: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    #: How many times the original response was edited (PATCH @original or UPDATE_MESSAGE).
    original_edits: int = 0
    #: Shards ``(shard_id, shard_count)`` of the gateway sessions INTERACTION_CREATE was sent on (``None``: unsharded).
    delivered_to: list[Shard | None] = field(default_factory=list)

    # ------------------------------------------------------------------ state
    @property
    def acknowledged(self) -> bool:
        """Whether the bot sent a (valid) callback."""
        return self.callback is not None

    @property
    def ephemeral(self) -> bool:
        """Whether the bot's response was ephemeral."""
        return self.callback is not None and self.callback.ephemeral

    @property
    def original_message(self) -> Message | None:
        """Current state of the response message (after edits), or ``None``."""
        if self.original_message_id is None:
            return None
        msg = self.fake.world.messages.get(self.original_message_id)
        return None if msg is None or msg.deleted else msg

    @property
    def followups(self) -> list[Message]:
        """Follow-up messages in order (current state)."""
        return [self.fake.world.messages[i] for i in self.followup_ids if i in self.fake.world.messages]

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (callback type 9), or ``None``."""
        return self.callback.data if self.callback and self.callback.type == MODAL else None

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """Autocomplete choices the bot returned (callback type 8), or ``None``."""
        if self.callback and self.callback.type == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            return list(self.callback.data.get("choices") or [])
        return None

    # ------------------------------------------------------------------ waiting
    async def response(self, timeout: float = 5.0) -> CallbackRecord:
        """Wait for the bot's callback and return it (type + data)."""
        return await self.fake.changed.wait_for(lambda: self.callback, timeout, f"a callback to interaction {self.id}")

    async def wait_followups(self, n: int = 1, timeout: float = 5.0) -> list[Message]:
        """Wait until at least ``n`` follow-ups were sent; return them all."""
        await self.fake.changed.wait_for(
            lambda: len(self.followup_ids) >= n, timeout, f"{n} follow-up(s) to interaction {self.id}"
        )
        return self.followups

    async def reply(self, timeout: float = 5.0) -> Message:
        """Return the final visible answer as a :class:`Message` (``.content``, ``.embeds``, ``.text``...).

        Type 4/7 → the response message; type 5 (deferred) → the edited original or the first
        follow-up; type 6 → the edited component message or the first follow-up.
        """
        cb = await self.response(timeout)
        if cb.type in (MODAL, APPLICATION_COMMAND_AUTOCOMPLETE_RESULT):
            raise InvalidInteraction(f"the bot answered with callback type {cb.type}, not a message")

        def answered() -> Message | None:
            original = self.original_message
            if cb.type in (CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE):
                return original
            if self.followup_ids and self.followup_ids[0] != self.original_message_id:
                return self.followups[0]
            if original is not None and not original.loading and (cb.type == 5 or self.original_edits):
                return original
            return None

        return await self.fake.changed.wait_for(answered, timeout, f"the answer to interaction {self.id}")


# ---------------------------------------------------------------------------------------------
# Payload building
# ---------------------------------------------------------------------------------------------


def new_token() -> str:
    """Make an interaction token shaped like Discord's (long, url-safe)."""
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


def channel_payload_for(channel: Channel, permissions: int) -> dict[str, Any]:
    """Partial channel as carried in interactions / resolved data (with the user's permissions)."""
    return {**channel.to_payload(), "permissions": str(permissions)}


def base_payload(
    fake: FakeDiscord,
    *,
    type_: int,
    who: Member | User,
    channel: Channel,
    data: dict[str, Any],
    message: Message | None = None,
) -> tuple[dict[str, Any], int, str]:
    """Build the envelope common to every interaction type; returns (payload, id, token)."""
    world = fake.world
    interaction_id = world.next_id()
    token = new_token()
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": type_,
        "data": data,
        "token": token,
        "version": 1,
        "locale": fake.default_locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if isinstance(who, Member):
        guild = who.guild
        perms = guild.permissions_for(who, channel)
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": guild.locale, "features": list(guild.features)},
            guild_locale=guild.locale,
            channel_id=str(channel.id),
            channel=channel_payload_for(channel, perms),
            member=who.to_payload(permissions=perms),
            app_permissions=str(guild.permissions_for(guild.bot_member, channel)),
            authorizing_integration_owners={"0": str(guild.id)},
            context=0,
        )
    else:
        payload.update(
            channel_id=str(channel.id),
            channel={**channel.to_payload(), "permissions": str(Permissions.ALL)},
            user=who.to_payload(),
            app_permissions=str(Permissions.ALL & ~Permissions.ADMINISTRATOR),
            authorizing_integration_owners={"0": str(world.application_owner.id)},
            context=1,
        )
    if message is not None:
        payload["message"] = world.message_payload(message)
    return payload, interaction_id, token


@dataclass
class _Resolved:
    """Accumulates the ``resolved`` object of an interaction."""

    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_user(self, user: User, member: Member | None, channel: Channel | None) -> None:
        self.data.setdefault("users", {})[str(user.id)] = user.to_payload()
        if member is not None:
            perms = member.guild.permissions_for(member, channel)
            entry = member.to_payload(include_user=False, permissions=perms)
            self.data.setdefault("members", {})[str(user.id)] = entry

    def add_role(self, role: Role) -> None:
        self.data.setdefault("roles", {})[str(role.id)] = role.to_payload()

    def add_channel(self, channel: Channel, permissions: int) -> None:
        self.data.setdefault("channels", {})[str(channel.id)] = channel_payload_for(channel, permissions)

    def add_attachment(self, attachment: Attachment) -> None:
        self.data.setdefault("attachments", {})[str(attachment.id)] = attachment.to_payload()

    def add_message(self, payload: dict[str, Any]) -> None:
        self.data.setdefault("messages", {})[payload["id"]] = payload


def _find_registered(fake: FakeDiscord, root: str, guild_id: int | None, ctype: int = 1) -> dict[str, Any]:
    candidates = []
    if guild_id is not None:
        candidates += fake.guild_commands.get(guild_id, [])
    candidates += fake.global_commands
    for cmd in candidates:
        if cmd["name"] == root and int(cmd.get("type") or 1) == ctype:
            return cmd
    known = sorted({c["name"] for c in candidates if int(c.get("type") or 1) == ctype})
    raise CommandNotRegistered(
        f"command {root!r} (type {ctype}) is not registered for this guild or globally; registered: {known}."
        " Did the bot sync its command tree?"
    )


def check_command_usable(fake: FakeDiscord, cmd: dict[str, Any], who: Member | User, channel: Channel) -> None:
    """Reject invocations Discord's client would not offer (default_member_permissions, contexts)."""
    contexts = cmd.get("contexts")
    context = 0 if isinstance(who, Member) else 1
    if contexts is not None and context not in contexts:
        raise InvalidInteraction(f"command {cmd['name']!r} is not available in context {context}")
    if cmd.get("dm_permission") is False and context == 1:
        raise InvalidInteraction(f"command {cmd['name']!r} is not available in DMs")
    if isinstance(who, Member):
        perms = who.guild.permissions_for(who, channel)
        if not perms & Permissions.USE_APPLICATION_COMMANDS:
            raise InvalidInteraction(f"{who.name} lacks USE_APPLICATION_COMMANDS in #{channel.name}")
        required = cmd.get("default_member_permissions")
        if required is not None and int(required) & perms != int(required):
            raise InvalidInteraction(
                f"{who.name} cannot see command {cmd['name']!r}: default_member_permissions={required}"
            )


def _convert_value(
    fake: FakeDiscord,
    schema: Mapping[str, Any],
    value: Any,
    resolved: _Resolved,
    who: Member | User,
    channel: Channel,
) -> Any:
    """Turn a test-friendly value into the JSON option value (adding ``resolved`` entries)."""
    otype = schema["type"]
    name = schema["name"]
    guild = who.guild if isinstance(who, Member) else None

    def member_of(user: User) -> Member | None:
        return guild.members.get(user.id) if guild is not None else None

    if otype == STRING:
        if not isinstance(value, str):
            raise InvalidInteraction(f"option {name!r} expects a string, got {value!r}")
        lo, hi = schema.get("min_length"), schema.get("max_length")
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise InvalidInteraction(f"option {name!r}: length {len(value)} outside [{lo}, {hi}]")
        return value
    if otype in (INTEGER, NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInteraction(f"option {name!r} expects a number, got {value!r}")
        if otype == INTEGER and not isinstance(value, int):
            raise InvalidInteraction(f"option {name!r} expects an integer, got {value!r}")
        lo, hi = schema.get("min_value"), schema.get("max_value")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise InvalidInteraction(f"option {name!r}: {value} outside [{lo}, {hi}]")
        return value
    if otype == BOOLEAN:
        if not isinstance(value, bool):
            raise InvalidInteraction(f"option {name!r} expects a bool, got {value!r}")
        return value
    if otype in (USER, MENTIONABLE) and isinstance(value, Member | User):
        user = value.user if isinstance(value, Member) else value
        resolved.add_user(user, value if isinstance(value, Member) else member_of(user), channel)
        return str(user.id)
    if otype in (ROLE, MENTIONABLE) and isinstance(value, Role):
        resolved.add_role(value)
        return str(value.id)
    if otype == CHANNEL and isinstance(value, Channel):
        allowed_types = schema.get("channel_types")
        if allowed_types and value.type not in allowed_types:
            raise InvalidInteraction(f"option {name!r} accepts channel types {allowed_types}, got {value.type}")
        perms = guild.permissions_for(who, value) if guild is not None and isinstance(who, Member) else 0
        resolved.add_channel(value, perms)
        return str(value.id)
    if otype == ATTACHMENT:
        upload = value if isinstance(value, Upload) else Upload(*value) if isinstance(value, tuple) else None
        if upload is None:
            raise InvalidInteraction(f"option {name!r} expects Upload(filename, data) or (filename, data)")
        attachment = fake.store_attachment(
            channel.id,
            upload.filename,
            upload.data,
            content_type=upload.content_type or mimetypes.guess_type(upload.filename)[0],
            description=upload.description,
            ephemeral=True,
        )
        resolved.add_attachment(attachment)
        return str(attachment.id)
    raise InvalidInteraction(f"option {name!r} (type {otype}) cannot take {value!r}")


def build_command_data(
    fake: FakeDiscord,
    who: Member | User,
    channel: Channel,
    name: str,
    options: Mapping[str, Any] | None,
    *,
    focused: str | None = None,
    check_permissions: bool = True,
) -> dict[str, Any]:
    """Build ``data`` for a chat-input command (or autocomplete when ``focused`` is set)."""
    parts = name.split()
    if not parts:
        raise InvalidInteraction("empty command name")
    guild_id = who.guild.id if isinstance(who, Member) else None
    cmd = _find_registered(fake, parts[0], guild_id)
    if check_permissions:
        check_command_usable(fake, cmd, who, channel)
    data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
    if cmd.get("guild_id"):
        data["guild_id"] = cmd["guild_id"]
    resolved = _Resolved()
    container: list[dict[str, Any]] = []
    data["options"] = container
    schema_options: list[dict[str, Any]] = list(cmd.get("options") or [])
    for sub in parts[1:]:
        match = next((o for o in schema_options if o["name"] == sub and o["type"] in (1, 2)), None)
        if match is None:
            subs = [o["name"] for o in schema_options if o["type"] in (1, 2)]
            raise CommandNotRegistered(f"{name!r}: no subcommand {sub!r} (available: {subs})")
        entry: dict[str, Any] = {"name": sub, "type": match["type"], "options": []}
        container.append(entry)
        container = entry["options"]
        schema_options = list(match.get("options") or [])
    if any(o["type"] in (1, 2) for o in schema_options):
        subs = [o["name"] for o in schema_options if o["type"] in (1, 2)]
        raise InvalidInteraction(f"{name!r} is a group; invoke one of its subcommands: {subs}")
    given = dict(options or {})
    if focused is not None and focused not in given:
        raise InvalidInteraction(f"focused option {focused!r} needs a value")
    for opt_name, value in given.items():
        schema = next((o for o in schema_options if o["name"] == opt_name), None)
        if schema is None:
            raise InvalidInteraction(
                f"{name!r} has no option {opt_name!r} (options: {[o['name'] for o in schema_options]})"
            )
        if opt_name == focused:
            # While typing, Discord sends the raw partial text for the focused option.
            container.append({"name": opt_name, "type": schema["type"], "value": str(value), "focused": True})
            continue
        json_value = _convert_value(fake, schema, value, resolved, who, channel)
        choices = schema.get("choices")
        if choices and json_value not in [c["value"] for c in choices]:
            raise InvalidInteraction(
                f"option {opt_name!r}={value!r} is not one of the choices {[c['value'] for c in choices]}"
            )
        container.append({"name": opt_name, "type": schema["type"], "value": json_value})
    if focused is None:
        missing = [o["name"] for o in schema_options if o.get("required") and o["name"] not in given]
        if missing:
            raise InvalidInteraction(f"{name!r}: missing required option(s) {missing}")
    if not data["options"]:
        del data["options"]
    if resolved.data:
        data["resolved"] = resolved.data
    return data


def build_context_menu_data(
    fake: FakeDiscord, who: Member | User, channel: Channel, name: str, target: Member | User | Message
) -> dict[str, Any]:
    """Build ``data`` for a user (type 2) or message (type 3) context-menu command."""
    ctype = 3 if isinstance(target, Message) else 2
    guild_id = who.guild.id if isinstance(who, Member) else None
    cmd = _find_registered(fake, name, guild_id, ctype)
    check_command_usable(fake, cmd, who, channel)
    resolved = _Resolved()
    if isinstance(target, Message):
        resolved.add_message(fake.world.message_payload(target))
        target_id = target.id
    else:
        user = target.user if isinstance(target, Member) else target
        member = target if isinstance(target, Member) else None
        resolved.add_user(user, member, channel)
        target_id = user.id
    data: dict[str, Any] = {
        "id": cmd["id"],
        "name": cmd["name"],
        "type": ctype,
        "target_id": str(target_id),
        "resolved": resolved.data,
    }
    if cmd.get("guild_id"):
        data["guild_id"] = cmd["guild_id"]
    return data


def build_component_data(
    fake: FakeDiscord, who: Member | User, message: Message, custom_id: str, values: Sequence[Any] | None
) -> dict[str, Any]:
    """Build ``data`` for clicking a button (``values is None``) or choosing in a select menu."""
    comp = message.find_component(custom_id)
    if comp is None:
        raise InvalidInteraction(f"message {message.id} has no component {custom_id!r} (has: {message.custom_ids})")
    if comp.get("disabled"):
        raise InvalidInteraction(f"component {custom_id!r} is disabled")
    if message.visible_to is not None and message.visible_to != who.id:
        raise InvalidInteraction("cannot interact with someone else's ephemeral message")
    ctype = int(comp["type"])
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
    if comp.get("id") is not None:
        data["id"] = comp["id"]
    if values is None:
        if ctype != 2:
            raise InvalidInteraction(f"{custom_id!r} is a select (type {ctype}); use select()")
        return data
    if ctype == 2:
        raise InvalidInteraction(f"{custom_id!r} is a button; use click()")
    lo, hi = int(comp.get("min_values", 1)), int(comp.get("max_values", 1))
    if not lo <= len(values) <= hi:
        raise InvalidInteraction(f"select {custom_id!r} takes between {lo} and {hi} values, got {len(values)}")
    if ctype == 3:
        allowed = [o["value"] for o in comp.get("options") or []]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise InvalidInteraction(f"select {custom_id!r}: {bad} not among options {allowed}")
        data["values"] = list(values)
        return data
    resolved = _Resolved()
    ids: list[str] = []
    channel = fake.world.channels[message.channel_id]
    guild = channel.guild
    for v in values:
        if isinstance(v, Member | User):
            user = v.user if isinstance(v, Member) else v
            member = v if isinstance(v, Member) else (guild.members.get(user.id) if guild else None)
            resolved.add_user(user, member, channel)
            ids.append(str(user.id))
        elif isinstance(v, Role):
            resolved.add_role(v)
            ids.append(str(v.id))
        elif isinstance(v, Channel):
            perms = guild.permissions_for(who, v) if guild is not None and isinstance(who, Member) else 0
            resolved.add_channel(v, perms)
            ids.append(str(v.id))
        else:
            raise InvalidInteraction(f"select {custom_id!r} (type {ctype}) needs Member/User/Role/Channel values")
    data["values"] = ids
    data["resolved"] = resolved.data
    return data


def build_modal_submit_data(modal: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Build ``data`` for submitting ``modal`` (as the bot sent it) with ``values`` by custom_id."""
    components: list[dict[str, Any]] = []
    used: set[str] = set()

    def leaf(comp: Mapping[str, Any]) -> dict[str, Any] | None:
        cid = comp.get("custom_id")
        ctype = comp.get("type")
        if cid is None or ctype not in (3, 4, 5, 6, 7, 8):
            return None
        used.add(cid)
        out: dict[str, Any] = {"type": ctype, "custom_id": cid}
        if comp.get("id") is not None:
            out["id"] = comp["id"]
        if ctype == 4:
            value = values.get(cid, "")
            if not isinstance(value, str):
                raise InvalidInteraction(f"text input {cid!r} needs a string")
            if comp.get("required", True) and not value:
                raise InvalidInteraction(f"text input {cid!r} is required")
            lo, hi = comp.get("min_length"), comp.get("max_length")
            if value and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                raise InvalidInteraction(f"text input {cid!r}: length {len(value)} outside [{lo}, {hi}]")
            out["value"] = value
        else:
            chosen = values.get(cid, [])
            out["values"] = [str(getattr(v, "id", v)) for v in chosen]
        return out

    for comp in modal.get("components") or []:
        ctype = comp.get("type")
        if ctype == 1:
            row = [x for x in (leaf(c) for c in comp.get("components") or []) if x is not None]
            components.append({"type": 1, "components": row})
        elif ctype == 18 and isinstance(comp.get("component"), Mapping):
            inner = leaf(comp["component"])
            if inner is not None:
                entry: dict[str, Any] = {"type": 18, "component": inner}
                if comp.get("id") is not None:
                    entry["id"] = comp["id"]
                components.append(entry)
        elif ctype == 10:
            components.append({"type": 10, "id": comp.get("id"), "content": comp.get("content", "")})
    unknown = set(values) - used
    if unknown:
        known = [c.get("custom_id") for c in iter_components(modal.get("components") or []) if c.get("custom_id")]
        raise InvalidInteraction(f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)} (has {known})")
    return {"custom_id": modal.get("custom_id"), "components": components}
