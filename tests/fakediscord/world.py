"""The in-memory Discord "world": users, guilds, roles, members, channels, threads and messages.

Everything is a plain dataclass with a ``to_payload()`` producing the JSON Discord would send.
Builder methods on :class:`Guild` (``add_member``, ``add_text_channel``, ``set_overwrite``...)
change the world *and* emit the matching gateway event (CHANNEL_CREATE, GUILD_ROLE_UPDATE, ...)
through :attr:`World.emit`, so changes made after the bot connected reach it like on Discord.
Mutating dataclass fields directly (``role.permissions = ...``) does NOT emit anything; use the
``edit_*`` methods for that.

Permission computation (:meth:`Guild.permissions_for`) follows Discord's documented algorithm:
owner and ADMINISTRATOR get everything; otherwise base = @everyone | member roles, then the
channel's @everyone overwrite, the aggregated role overwrites and the member overwrite are
applied; threads use their parent channel; no VIEW_CHANNEL means no permissions at all, and
without SEND_MESSAGES the text-only bits (embeds, files, @everyone, TTS) are dropped as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._util import SnowflakeGenerator, iso_now
from .mentions import Pings, compute_pings
from .permissions import Permissions

# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types)
GUILD_TEXT = 0
DM = 1
GUILD_CATEGORY = 4
GUILD_ANNOUNCEMENT = 5
ANNOUNCEMENT_THREAD = 10
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)

# Message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Overwrite target types
ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1

EmitHook = Callable[[str, dict[str, Any]], None]


@dataclass(eq=False)
class User:
    """A Discord user (human or bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None

    @property
    def mention(self) -> str:
        """``<@id>``."""
        return f"<@{self.id}>"

    @property
    def name(self) -> str:
        """The username."""
        return self.username

    def to_payload(self) -> dict[str, Any]:
        """User object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class Role:
    """A guild role. The @everyone role has the guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        """``<@&id>`` (or ``@everyone`` for the default role)."""
        return "@everyone" if self.id == self.guild_id else f"<@&{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        """Role object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> dict[str, Any]:
        """Overwrite object."""
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass(eq=False)
class Member:
    """A user's membership in a guild."""

    guild: Guild = field(repr=False)
    user: User
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        """The user id."""
        return self.user.id

    @property
    def name(self) -> str:
        """The username."""
        return self.user.username

    @property
    def mention(self) -> str:
        """``<@id>``."""
        return self.user.mention

    @property
    def roles(self) -> list[Role]:
        """The member's roles (without @everyone)."""
        return [self.guild.roles[r] for r in self.role_ids if r in self.guild.roles]

    def permissions_in(self, channel: Channel | None = None) -> int:
        """Shortcut for ``guild.permissions_for(member, channel)``."""
        return self.guild.permissions_for(self, channel)

    def to_payload(self, *, include_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        """Guild member object; ``permissions`` is added the way interactions carry it."""
        data: dict[str, Any] = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.role_ids],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if include_user:
            data["user"] = self.user.to_payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass(eq=False)
class Channel:
    """A guild channel, thread or DM channel (one class, discriminated by ``type``)."""

    id: int
    type: int
    name: str | None
    guild: Guild | None = field(default=None, repr=False)
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    last_message_id: int | None = None
    # threads
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    create_timestamp: str = field(default_factory=iso_now)
    archive_timestamp: str = field(default_factory=iso_now)
    message_count: int = 0
    total_message_sent: int = 0
    member_ids: set[int] = field(default_factory=set)
    applied_tags: list[int] = field(default_factory=list)
    # forum channels
    available_tags: list[dict[str, Any]] = field(default_factory=list)
    # DMs
    recipients: list[User] = field(default_factory=list)

    @property
    def guild_id(self) -> int | None:
        """The guild id, ``None`` for DMs."""
        return self.guild.id if self.guild else None

    @property
    def is_thread(self) -> bool:
        """Whether this is a thread (incl. forum posts)."""
        return self.type in THREAD_TYPES

    @property
    def is_forum(self) -> bool:
        """Whether this is a forum channel."""
        return self.type == GUILD_FORUM

    @property
    def mention(self) -> str:
        """``<#id>``."""
        return f"<#{self.id}>"

    @property
    def parent(self) -> Channel | None:
        """Parent channel (threads) or category (channels)."""
        if self.guild is None or self.parent_id is None:
            return None
        return self.guild.channels.get(self.parent_id)

    def to_payload(self) -> dict[str, Any]:
        """Channel object (thread objects include ``thread_metadata``)."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "flags": 0,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
        }
        if self.type == DM:
            data["recipients"] = [u.to_payload() for u in self.recipients]
            return data
        data["guild_id"] = str(self.guild_id)
        data["parent_id"] = str(self.parent_id) if self.parent_id else None
        data["rate_limit_per_user"] = self.rate_limit_per_user
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id) if self.owner_id else None,
                message_count=self.message_count,
                total_message_sent=self.total_message_sent,
                member_count=len(self.member_ids),
                applied_tags=[str(t) for t in self.applied_tags],
                thread_metadata={
                    "archived": self.archived,
                    "locked": self.locked,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": self.archive_timestamp,
                    "create_timestamp": self.create_timestamp,
                    "invitable": self.invitable,
                },
            )
            return data
        data.update(
            position=self.position,
            permission_overwrites=[o.to_payload() for o in self.overwrites.values()],
            nsfw=self.nsfw,
            topic=self.topic,
        )
        if self.type == GUILD_FORUM:
            data.update(
                available_tags=self.available_tags,
                default_reaction_emoji=None,
                default_thread_rate_limit_per_user=0,
                default_sort_order=None,
                default_forum_layout=0,
                default_auto_archive_duration=1440,
            )
        return data


@dataclass(eq=False)
class Attachment:
    """An uploaded file; the bytes are served by the fake CDN at :attr:`url`."""

    id: int
    filename: str
    data: bytes = field(repr=False)
    url: str
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def to_payload(self) -> dict[str, Any]:
        """Attachment object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass(eq=False)
class Message:
    """A message as the fake stores it, with what it was sent with and whom it pinged."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    poll: dict[str, Any] | None = None
    nonce: str | int | None = None
    message_reference: dict[str, Any] | None = None
    #: ``allowed_mentions`` exactly as received (``None`` when the request had none).
    allowed_mentions: dict[str, Any] | None = None
    #: Who this message actually pings (see :mod:`fakediscord.mentions`).
    pinged: Pings = field(default_factory=Pings)
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    pinned: bool = False
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    interaction: dict[str, Any] | None = None
    #: Thread started from this message, if any.
    thread_id: int | None = None
    #: For ephemeral messages: the only user who can see it.
    visible_to: int | None = None
    deleted: bool = False
    #: Earlier versions of this message (the stored payloads before each edit).
    revisions: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, set[int]] = field(default_factory=dict)

    @property
    def ephemeral(self) -> bool:
        """Whether the EPHEMERAL flag is set."""
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Whether this is a deferred "Bot is thinking..." placeholder."""
        return bool(self.flags & LOADING)

    @property
    def text(self) -> str:
        """Content plus all embed text (title, description, fields, footer), for easy ``in`` checks."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for f in embed.get("fields") or []:
                parts += [f.get("name") or "", f.get("value") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
            parts.append((embed.get("author") or {}).get("name") or "")
        return "\n".join(p for p in parts if p)

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        """Return the component (button/select...) with ``custom_id``, searching nested layouts."""
        from .limits import iter_components

        for comp in iter_components(self.components):
            if comp.get("custom_id") == custom_id:
                return dict(comp)
        return None

    @property
    def custom_ids(self) -> list[str]:
        """All custom_ids on the message's components."""
        from .limits import iter_components

        return [c["custom_id"] for c in iter_components(self.components) if c.get("custom_id")]


@dataclass(eq=False)
class Guild:
    """A guild plus the builder API to populate it."""

    world: World = field(repr=False)
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    locale: str = "en-US"
    features: list[str] = field(default_factory=list)
    bot_role_id: int | None = None
    #: False once the bot was removed from the guild (FakeDiscord.remove_bot).
    bot_present: bool = True
    #: False during a Discord-side outage of the guild (FakeDiscord.set_available).
    available: bool = True

    # ------------------------------------------------------------------ accessors
    @property
    def everyone(self) -> Role:
        """The @everyone role (id == guild id)."""
        return self.roles[self.id]

    @property
    def bot_member(self) -> Member:
        """The bot's own member."""
        return self.members[self.world.bot_user.id]

    @property
    def bot_role(self) -> Role:
        """The bot's managed role (created with the guild)."""
        assert self.bot_role_id is not None
        return self.roles[self.bot_role_id]

    @property
    def owner(self) -> Member:
        """The guild owner."""
        return self.members[self.owner_id]

    @property
    def text_channels(self) -> list[Channel]:
        """Text channels in creation order."""
        return [c for c in self.channels.values() if c.type == GUILD_TEXT]

    @property
    def threads(self) -> list[Channel]:
        """Threads (incl. forum posts) in creation order."""
        return [c for c in self.channels.values() if c.is_thread]

    def member(self, name_or_id: str | int) -> Member:
        """Look a member up by username or id."""
        for m in self.members.values():
            if m.id == name_or_id or m.user.username == name_or_id:
                return m
        raise KeyError(f"no member {name_or_id!r} in guild {self.name!r}")

    def channel(self, name_or_id: str | int) -> Channel:
        """Look a channel or thread up by name or id."""
        for c in self.channels.values():
            if c.id == name_or_id or c.name == name_or_id:
                return c
        raise KeyError(f"no channel {name_or_id!r} in guild {self.name!r}")

    def role(self, name_or_id: str | int) -> Role:
        """Look a role up by name or id."""
        for r in self.roles.values():
            if r.id == name_or_id or r.name == name_or_id:
                return r
        raise KeyError(f"no role {name_or_id!r} in guild {self.name!r}")

    # ------------------------------------------------------------------ permissions
    def base_permissions(self, member: Member) -> int:
        """Guild-level permissions: owner/ADMINISTRATOR get all, else @everyone | roles."""
        if member.id == self.owner_id:
            return Permissions.ALL
        perms = self.everyone.permissions
        for role in member.roles:
            perms |= role.permissions
        if perms & Permissions.ADMINISTRATOR:
            return Permissions.ALL
        return perms

    def permissions_for(self, member: Member | User | int, channel: Channel | None = None) -> int:
        """Compute a member's permissions, in ``channel`` if given (threads use the parent's overwrites)."""
        m = self._as_member(member)
        base = self.base_permissions(m)
        if channel is None or base == Permissions.ALL:
            return base
        target = channel.parent if channel.is_thread and channel.parent is not None else channel
        perms = base
        everyone_ow = target.overwrites.get(self.id)
        if everyone_ow is not None:
            perms = (perms & ~everyone_ow.deny) | everyone_ow.allow
        allow = deny = 0
        for rid in m.role_ids:
            ow = target.overwrites.get(rid)
            if ow is not None and ow.type == ROLE_OVERWRITE:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        member_ow = target.overwrites.get(m.id)
        if member_ow is not None and member_ow.type == MEMBER_OVERWRITE:
            perms = (perms & ~member_ow.deny) | member_ow.allow
        # Implicit denials: you cannot do anything in a channel you cannot see, and without
        # the right to send you cannot attach, embed, @everyone or TTS either.
        if not perms & Permissions.VIEW_CHANNEL:
            return 0
        send_bit = Permissions.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permissions.SEND_MESSAGES
        if not perms & send_bit:
            perms &= ~Permissions._NEEDS_SEND
        return perms

    def _as_member(self, who: Member | User | int) -> Member:
        uid = who if isinstance(who, int) else who.id
        try:
            return self.members[uid]
        except KeyError:
            raise KeyError(f"user {uid} is not a member of {self.name!r}") from None

    # ------------------------------------------------------------------ builder: roles
    def add_role(
        self,
        name: str,
        permissions: int = 0,
        *,
        mentionable: bool = False,
        hoist: bool = False,
        color: int = 0,
    ) -> Role:
        """Create a role (dispatches GUILD_ROLE_CREATE)."""
        role = Role(
            id=self.world.next_id(),
            guild_id=self.id,
            name=name,
            permissions=permissions,
            position=len(self.roles),
            color=color,
            hoist=hoist,
            mentionable=mentionable,
        )
        self.roles[role.id] = role
        self.world.emit("GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.to_payload()})
        return role

    def edit_role(
        self,
        role: Role,
        *,
        permissions: int | None = None,
        name: str | None = None,
        mentionable: bool | None = None,
    ) -> Role:
        """Change a role (dispatches GUILD_ROLE_UPDATE)."""
        if permissions is not None:
            role.permissions = permissions
        if name is not None:
            role.name = name
        if mentionable is not None:
            role.mentionable = mentionable
        self.world.emit("GUILD_ROLE_UPDATE", {"guild_id": str(self.id), "role": role.to_payload()})
        return role

    def delete_role(self, role: Role) -> None:
        """Delete a role and strip it from members (dispatches GUILD_ROLE_DELETE)."""
        self.roles.pop(role.id, None)
        for m in self.members.values():
            if role.id in m.role_ids:
                m.role_ids.remove(role.id)
        self.world.emit("GUILD_ROLE_DELETE", {"guild_id": str(self.id), "role_id": str(role.id)})

    # ------------------------------------------------------------------ builder: members
    def add_member(
        self,
        name: str | User,
        *,
        roles: Iterable[Role] = (),
        permissions: int | None = None,
        nick: str | None = None,
        bot: bool = False,
    ) -> Member:
        """Add a member (new user from a name, or an existing :class:`User`).

        ``permissions`` is a shortcut: it creates a role named ``"<name> perms"`` with those bits
        and gives it to the member. Dispatches GUILD_MEMBER_ADD.
        """
        user = name if isinstance(name, User) else self.world.create_user(name, bot=bot)
        role_ids = [r.id for r in roles]
        if permissions is not None:
            role_ids.append(self.add_role(f"{user.username} perms", permissions).id)
        member = Member(guild=self, user=user, role_ids=role_ids, nick=nick)
        self.members[user.id] = member
        self.world.emit("GUILD_MEMBER_ADD", {**member.to_payload(), "guild_id": str(self.id)})
        return member

    def set_member_roles(self, member: Member, roles: Iterable[Role]) -> Member:
        """Replace a member's roles (dispatches GUILD_MEMBER_UPDATE)."""
        member.role_ids = [r.id for r in roles]
        self._member_updated(member)
        return member

    def give_role(self, member: Member, role: Role) -> Member:
        """Add one role to a member (dispatches GUILD_MEMBER_UPDATE)."""
        if role.id not in member.role_ids:
            member.role_ids.append(role.id)
        self._member_updated(member)
        return member

    def take_role(self, member: Member, role: Role) -> Member:
        """Remove one role from a member (dispatches GUILD_MEMBER_UPDATE)."""
        if role.id in member.role_ids:
            member.role_ids.remove(role.id)
        self._member_updated(member)
        return member

    def remove_member(self, member: Member) -> None:
        """Kick/leave (dispatches GUILD_MEMBER_REMOVE)."""
        self.members.pop(member.id, None)
        self.world.emit("GUILD_MEMBER_REMOVE", {"guild_id": str(self.id), "user": member.user.to_payload()})

    def _member_updated(self, member: Member) -> None:
        self.world.emit("GUILD_MEMBER_UPDATE", {**member.to_payload(), "guild_id": str(self.id)})

    # ------------------------------------------------------------------ builder: channels
    def _new_channel(self, type_: int, name: str, **kwargs: Any) -> Channel:
        position = sum(1 for c in self.channels.values() if not c.is_thread)
        channel = Channel(id=self.world.next_id(), type=type_, name=name, guild=self, position=position, **kwargs)
        self.channels[channel.id] = channel
        self.world.channels[channel.id] = channel
        return channel

    def add_category(self, name: str) -> Channel:
        """Create a category channel (dispatches CHANNEL_CREATE)."""
        channel = self._new_channel(GUILD_CATEGORY, name)
        self.world.emit("CHANNEL_CREATE", channel.to_payload())
        return channel

    def add_text_channel(
        self,
        name: str,
        *,
        topic: str | None = None,
        category: Channel | None = None,
        nsfw: bool = False,
        rate_limit_per_user: int = 0,
    ) -> Channel:
        """Create a text channel (dispatches CHANNEL_CREATE)."""
        channel = self._new_channel(
            GUILD_TEXT,
            name,
            topic=topic,
            parent_id=category.id if category else None,
            nsfw=nsfw,
            rate_limit_per_user=rate_limit_per_user,
        )
        self.world.emit("CHANNEL_CREATE", channel.to_payload())
        return channel

    def add_forum_channel(
        self, name: str, *, tags: Sequence[str] = (), topic: str | None = None, category: Channel | None = None
    ) -> Channel:
        """Create a forum channel (type 15) with optional tag names (dispatches CHANNEL_CREATE)."""
        available = [
            {"id": str(self.world.next_id()), "name": t, "moderated": False, "emoji_id": None, "emoji_name": None}
            for t in tags
        ]
        channel = self._new_channel(
            GUILD_FORUM, name, topic=topic, parent_id=category.id if category else None, available_tags=available
        )
        self.world.emit("CHANNEL_CREATE", channel.to_payload())
        return channel

    def add_thread(
        self,
        parent: Channel,
        name: str,
        *,
        owner: Member | None = None,
        type: int = PUBLIC_THREAD,
        archived: bool = False,
        locked: bool = False,
        applied_tags: Sequence[int] = (),
        thread_id: int | None = None,
    ) -> Channel:
        """Create a thread in ``parent`` (dispatches THREAD_CREATE). Use ``fake.say`` to add messages."""
        owner_id = owner.id if owner else self.owner_id
        thread = Channel(
            id=thread_id or self.world.next_id(),
            type=type,
            name=name,
            guild=self,
            parent_id=parent.id,
            owner_id=owner_id,
            archived=archived,
            locked=locked,
            member_ids={owner_id},
            applied_tags=list(applied_tags),
            rate_limit_per_user=0,
        )
        self.channels[thread.id] = thread
        self.world.channels[thread.id] = thread
        self.world.emit("THREAD_CREATE", {**thread.to_payload(), "newly_created": True})
        return thread

    def edit_channel(self, channel: Channel, **changes: Any) -> Channel:
        """Set attributes on a channel/thread (e.g. ``archived=True``) and dispatch the UPDATE event."""
        for key, value in changes.items():
            if not hasattr(channel, key):
                raise AttributeError(f"Channel has no attribute {key!r}")
            setattr(channel, key, value)
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        self.world.emit(event, channel.to_payload())
        return channel

    def delete_channel(self, channel: Channel) -> None:
        """Delete a channel or thread (dispatches CHANNEL_DELETE / THREAD_DELETE)."""
        self.channels.pop(channel.id, None)
        self.world.channels.pop(channel.id, None)
        if channel.is_thread:
            self.world.emit(
                "THREAD_DELETE",
                {
                    "id": str(channel.id),
                    "guild_id": str(self.id),
                    "parent_id": str(channel.parent_id),
                    "type": channel.type,
                },
            )
        else:
            self.world.emit("CHANNEL_DELETE", channel.to_payload())

    def set_overwrite(
        self, channel: Channel, target: Role | Member | User, *, allow: int = 0, deny: int = 0
    ) -> Overwrite:
        """Set (replace) the overwrite for a role or member on ``channel`` (dispatches CHANNEL_UPDATE)."""
        if channel.is_thread:
            raise ValueError("threads have no overwrites of their own; set them on the parent channel")
        kind = ROLE_OVERWRITE if isinstance(target, Role) else MEMBER_OVERWRITE
        ow = Overwrite(id=target.id, type=kind, allow=allow, deny=deny)
        channel.overwrites[target.id] = ow
        self.world.emit("CHANNEL_UPDATE", channel.to_payload())
        return ow

    def clear_overwrite(self, channel: Channel, target: Role | Member | User) -> None:
        """Remove the overwrite for ``target`` (dispatches CHANNEL_UPDATE)."""
        channel.overwrites.pop(target.id, None)
        self.world.emit("CHANNEL_UPDATE", channel.to_payload())

    # ------------------------------------------------------------------ payloads
    def join_payload(self) -> dict[str, Any]:
        """GUILD_CREATE as Discord sends it when the bot joins: no ``unavailable`` key (discord.py: on_guild_join)."""
        payload = self.to_payload()
        del payload["unavailable"]
        return payload

    def to_payload(self, *, members: Iterable[Member] | None = None) -> dict[str, Any]:
        """Full GUILD_CREATE payload (``members`` limits the member list, default: all)."""
        member_list = list(self.members.values()) if members is None else list(members)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": list(self.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.locale,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
            "joined_at": self.bot_member.joined_at,
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "members": [m.to_payload() for m in member_list],
            "channels": [c.to_payload() for c in self.channels.values() if not c.is_thread],
            "threads": [c.to_payload() for c in self.channels.values() if c.is_thread and not c.archived],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


class World:
    """Root of the model: id generator, users, guilds, channel and message indexes.

    :attr:`emit` is called with ``(event_name, payload)`` for every change that Discord would
    dispatch; :class:`~fakediscord.FakeDiscord` points it at the gateway.
    """

    def __init__(self, *, bot_name: str = "FakeBot") -> None:
        self.next_id = SnowflakeGenerator()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.attachments: dict[int, Attachment] = {}
        self.emit_hook: EmitHook | None = None
        self.bot_user = self.create_user(bot_name, bot=True)
        #: The application's id (discord.py's ``application_id``); Discord uses the bot user's id.
        self.application_id = self.bot_user.id
        self.application_name = bot_name
        self.application_owner = self.create_user("app-owner")

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Forward a world change to the gateway (no-op until a hook is installed)."""
        if self.emit_hook is not None:
            self.emit_hook(event, payload)

    def create_user(self, username: str, *, bot: bool = False, global_name: str | None = None) -> User:
        """Create a user that is not (yet) in any guild."""
        user = User(id=self.next_id(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: User | str = "owner",
        everyone_permissions: int = Permissions.DEFAULT_EVERYONE,
        bot_permissions: int = Permissions.DEFAULT_BOT,
        locale: str = "en-US",
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """Create a guild with @everyone, an owner member and the bot's member + managed role.

        With ``shard=(shard_id, shard_count)`` the guild's id puts it in that shard. A GUILD_CREATE is
        dispatched if the bot is already connected (as when it joins a guild).
        """
        guild_id = self.next_id() if shard is None else self.next_id.next_in_shard(*shard)
        owner_user = owner if isinstance(owner, User) else self.create_user(owner)
        guild = Guild(world=self, id=guild_id, name=name, owner_id=owner_user.id, locale=locale)
        guild.roles[guild_id] = Role(id=guild_id, guild_id=guild_id, name="@everyone", permissions=everyone_permissions)
        bot_role = Role(
            id=self.next_id(),
            guild_id=guild_id,
            name=self.application_name,
            permissions=bot_permissions,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.bot_role_id = bot_role.id
        guild.members[owner_user.id] = Member(guild=guild, user=owner_user)
        guild.members[self.bot_user.id] = Member(guild=guild, user=self.bot_user, role_ids=[bot_role.id])
        self.guilds[guild_id] = guild
        self.emit("GUILD_CREATE", guild.join_payload())
        return guild

    def guild_of(self, channel: Channel) -> Guild:
        """Return the guild of a guild channel (raises for DMs)."""
        if channel.guild is None:
            raise ValueError(f"channel {channel.id} is not in a guild")
        return channel.guild

    def dm_channel(self, user: User) -> Channel:
        """Get or create the DM channel between the bot and ``user``."""
        for c in self.channels.values():
            if c.type == DM and c.recipients and c.recipients[0].id == user.id:
                return c
        channel = Channel(id=self.next_id(), type=DM, name=None, recipients=[user])
        self.channels[channel.id] = channel
        return channel

    # ------------------------------------------------------------------ messages
    def messages_in(self, channel: Channel | int, *, include_ephemeral: bool = False) -> list[Message]:
        """Non-deleted messages of a channel in order (ephemeral ones only if asked)."""
        cid = channel if isinstance(channel, int) else channel.id
        out = []
        for mid in self.channel_messages.get(cid, []):
            msg = self.messages[mid]
            if msg.deleted or (msg.ephemeral and not include_ephemeral):
                continue
            out.append(msg)
        return out

    def compute_pings(self, channel: Channel, author: User, msg: Message) -> Pings:
        """Work out whom ``msg`` pings, given the author's permissions in ``channel``."""
        replied_author: int | None = None
        ref = msg.message_reference
        if ref and ref.get("message_id") and int(ref["message_id"]) in self.messages:
            replied_author = self.messages[int(ref["message_id"])].author.id
        guild = channel.guild
        if guild is None:
            return compute_pings(
                msg.content,
                msg.allowed_mentions,
                author_id=author.id,
                can_mention_everyone=False,
                mentionable_roles=(),
                existing_roles=(),
                reachable_users=None,
                replied_author_id=replied_author,
            )
        author_perms = guild.permissions_for(author, channel) if author.id in guild.members else 0
        reachable = [
            m.id for m in guild.members.values() if guild.permissions_for(m, channel) & Permissions.VIEW_CHANNEL
        ]
        return compute_pings(
            msg.content,
            msg.allowed_mentions,
            author_id=author.id,
            can_mention_everyone=bool(author_perms & Permissions.MENTION_EVERYONE),
            mentionable_roles=[r.id for r in guild.roles.values() if r.mentionable],
            existing_roles=list(guild.roles),
            reachable_users=reachable,
            replied_author_id=replied_author,
        )

    def add_message(self, channel: Channel, msg: Message, *, dispatch: bool = True) -> Message:
        """Store a message, bump channel/thread counters and dispatch MESSAGE_CREATE if visible."""
        self.messages[msg.id] = msg
        self.channel_messages.setdefault(channel.id, []).append(msg.id)
        if msg.ephemeral:
            # Ephemeral messages are invisible to the channel and never dispatched.
            return msg
        channel.last_message_id = msg.id
        if channel.is_thread:
            channel.message_count += 1
            channel.total_message_sent += 1
        if dispatch:
            self.emit("MESSAGE_CREATE", self.message_payload(msg, gateway=True))
        return msg

    def message_payload(self, msg: Message, *, gateway: bool = False, depth: int = 0) -> dict[str, Any]:
        """Message object; ``gateway=True`` adds ``guild_id`` and the author's ``member``."""
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        mentions = []
        for uid in sorted(msg.pinged.users):
            user = self.users.get(uid)
            if user is None:
                continue
            entry = user.to_payload()
            if gateway and guild is not None and uid in guild.members:
                entry["member"] = guild.members[uid].to_payload(include_user=False)
            mentions.append(entry)
        data: dict[str, Any] = {
            "id": str(msg.id),
            "type": msg.type,
            "channel_id": str(msg.channel_id),
            "author": msg.author.to_payload(),
            "content": msg.content,
            "timestamp": msg.timestamp,
            "edited_timestamp": msg.edited_timestamp,
            "tts": msg.tts,
            "mention_everyone": msg.pinged.everyone,
            "mentions": mentions,
            "mention_roles": [str(r) for r in sorted(msg.pinged.roles)],
            "attachments": [a.to_payload() for a in msg.attachments],
            "embeds": msg.embeds,
            "components": msg.components,
            "pinned": msg.pinned,
            "flags": msg.flags,
        }
        if msg.nonce is not None:
            data["nonce"] = msg.nonce
        if msg.poll is not None:
            data["poll"] = msg.poll
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
        if msg.application_id is not None:
            data["application_id"] = str(msg.application_id)
        if msg.interaction_metadata is not None:
            data["interaction_metadata"] = msg.interaction_metadata
        if msg.interaction is not None:
            data["interaction"] = msg.interaction
        if msg.message_reference is not None:
            data["message_reference"] = msg.message_reference
            ref_id = msg.message_reference.get("message_id")
            if depth == 0 and ref_id is not None:
                ref = self.messages.get(int(ref_id))
                data["referenced_message"] = None if ref is None or ref.deleted else self.message_payload(ref, depth=1)
        if msg.thread_id is not None and msg.thread_id in self.channels:
            data["thread"] = self.channels[msg.thread_id].to_payload()
        if msg.reactions:
            data["reactions"] = [
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": self.bot_user.id in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in msg.reactions.items()
                if users
            ]
        if gateway and guild is not None:
            data["guild_id"] = str(guild.id)
            author_member = guild.members.get(msg.author.id)
            if author_member is not None and msg.webhook_id is None:
                data["member"] = author_member.to_payload(include_user=False)
        return data
