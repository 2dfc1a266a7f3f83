"""Discord permission bit constants (plain ints, values identical to Discord's).

The fake deliberately does not import ``discord.Permissions`` so it stays independent of
the client under test; the self-tests check every value here against discord.py.
"""

from __future__ import annotations


class Permissions:
    """Namespace of permission bits. Combine with ``|``: ``Permissions.VIEW_CHANNEL | Permissions.SEND_MESSAGES``."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SET_VOICE_CHANNEL_STATUS = 1 << 48
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50
    PIN_MESSAGES = 1 << 51
    BYPASS_SLOWMODE = 1 << 52

    #: Every bit Discord defines (what owners and administrators get).
    ALL = 0

    #: Roughly what a brand-new server grants ``@everyone``.
    DEFAULT_EVERYONE = 0

    #: What the fake gives the bot's own role by default: a typical "community bot" invite.
    #: MENTION_EVERYONE is included on purpose so that a bot that forgets ``allowed_mentions``
    #: really *would* ping @everyone in the fake, and tests catch it.
    DEFAULT_BOT = 0

    #: Permissions that only make sense on text-like channels; lost when SEND_MESSAGES is denied.
    _NEEDS_SEND = 0


def _all_bits() -> int:
    value = 0
    for name, bit in vars(Permissions).items():
        if name.isupper() and not name.startswith(("ALL", "DEFAULT", "_")) and isinstance(bit, int):
            value |= bit
    return value


Permissions.ALL = _all_bits()
P = Permissions
Permissions.DEFAULT_EVERYONE = (
    P.CREATE_INSTANT_INVITE
    | P.CHANGE_NICKNAME
    | P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.SEND_MESSAGES_IN_THREADS
    | P.CREATE_PUBLIC_THREADS
    | P.CREATE_PRIVATE_THREADS
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.ADD_REACTIONS
    | P.USE_EXTERNAL_EMOJIS
    | P.USE_EXTERNAL_STICKERS
    | P.READ_MESSAGE_HISTORY
    | P.USE_APPLICATION_COMMANDS
    | P.CONNECT
    | P.SPEAK
    | P.STREAM
    | P.USE_VAD
    | P.SEND_VOICE_MESSAGES
    | P.SEND_POLLS
    | P.USE_EXTERNAL_APPS
)
Permissions.DEFAULT_BOT = (
    P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.SEND_MESSAGES_IN_THREADS
    | P.CREATE_PUBLIC_THREADS
    | P.MANAGE_THREADS
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
    | P.USE_EXTERNAL_EMOJIS
    | P.MENTION_EVERYONE
    | P.MANAGE_MESSAGES
    | P.PIN_MESSAGES
)
# Discord: without SEND_MESSAGES in a channel these are implicitly denied as well.
Permissions._NEEDS_SEND = P.MENTION_EVERYONE | P.SEND_TTS_MESSAGES | P.ATTACH_FILES | P.EMBED_LINKS
del P


def permission_names(value: int) -> list[str]:
    """Names of the bits set in ``value`` (for readable assertion messages)."""
    return [
        name
        for name, bit in vars(Permissions).items()
        if name.isupper() and not name.startswith(("ALL", "DEFAULT", "_")) and isinstance(bit, int) and value & bit
    ]


def has(value: int, needed: int) -> bool:
    """Return whether every bit of ``needed`` is set in ``value``."""
    return value & needed == needed
