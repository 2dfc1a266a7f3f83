"""Gateway intents: which dispatches a session receives, and how message content is redacted without it."""

from __future__ import annotations

from typing import Any


class Intents:
    """Gateway intent bits (values identical to Discord's)."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_EXPRESSIONS = 1 << 3
    GUILD_INTEGRATIONS = 1 << 4
    GUILD_WEBHOOKS = 1 << 5
    GUILD_INVITES = 1 << 6
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


# Application flags advertised in READY for the privileged intents that are enabled.
_APP_FLAG_FOR_INTENT = {
    Intents.GUILD_PRESENCES: 1 << 13,  # GATEWAY_PRESENCE_LIMITED
    Intents.GUILD_MEMBERS: 1 << 15,  # GATEWAY_GUILD_MEMBERS_LIMITED
    Intents.MESSAGE_CONTENT: 1 << 19,  # GATEWAY_MESSAGE_CONTENT_LIMITED
}
APPLICATION_COMMAND_BADGE = 1 << 23


def application_flags(privileged_intents: int) -> int:
    """Application flags matching the privileged intents the application may use."""
    flags = APPLICATION_COMMAND_BADGE
    for intent, flag in _APP_FLAG_FOR_INTENT.items():
        if privileged_intents & intent:
            flags |= flag
    return flags


def filter_for(intents: int, bot_id: str, event: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Apply ``intents``: drop events a session did not ask for (``None``), redact message content."""
    if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE") or event.startswith(
        ("GUILD_ROLE_", "CHANNEL_", "THREAD_")
    ):
        if not intents & Intents.GUILDS:
            return None
        if event == "GUILD_CREATE" and not intents & Intents.GUILD_PRESENCES:
            # Without GUILD_PRESENCES Discord only includes the bot itself in GUILD_CREATE.members.
            data = {**data, "members": [m for m in data["members"] if m["user"]["id"] == bot_id]}
        return data
    if event in ("GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE", "GUILD_MEMBER_UPDATE"):
        is_self = data.get("user", {}).get("id") == bot_id
        # Updates of the bot's own member are always sent, the rest need GUILD_MEMBERS.
        if intents & Intents.GUILD_MEMBERS or (is_self and event == "GUILD_MEMBER_UPDATE"):
            return data
        return None
    if event.startswith("MESSAGE_REACTION_"):
        needed = Intents.GUILD_MESSAGE_REACTIONS if data.get("guild_id") else Intents.DIRECT_MESSAGE_REACTIONS
        return data if intents & needed else None
    if event == "TYPING_START":
        needed = Intents.GUILD_MESSAGE_TYPING if data.get("guild_id") else Intents.DIRECT_MESSAGE_TYPING
        return data if intents & needed else None
    if event.startswith("MESSAGE_"):
        needed = Intents.GUILD_MESSAGES if data.get("guild_id") else Intents.DIRECT_MESSAGES
        if not intents & needed:
            return None
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not intents & Intents.MESSAGE_CONTENT:
            return redact(data, bot_id)
        return data
    return data


def redact(data: dict[str, Any], bot_id: str) -> dict[str, Any]:
    """Blank content like Discord does for apps without the MESSAGE_CONTENT intent."""
    if not data.get("guild_id") or data.get("author", {}).get("id") == bot_id:
        return data
    if any(u.get("id") == bot_id for u in data.get("mentions") or []):
        return data
    redacted = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
    redacted.pop("poll", None)
    return redacted
