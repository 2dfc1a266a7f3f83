"""Who a message would actually ping, following Discord's ``allowed_mentions`` rules.

Rules implemented (https://discord.com/developers/docs/resources/message#allowed-mentions-object):

* ``allowed_mentions`` absent → Discord parses everything: user, role and @everyone/@here
  mentions in ``content``, and a reply pings the replied-to author.
* present → only the types in ``parse`` are parsed, plus explicitly whitelisted ``users`` /
  ``roles`` ids; ``replied_user`` defaults to ``False``.
* @everyone/@here only ping if the author has MENTION_EVERYONE in the channel; a role mention
  only pings if the role is mentionable or the author has MENTION_EVERYONE.
* A user is only pinged if they are a guild member who can see the channel (and not the author).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

USER_MENTION_RE = re.compile(r"<@!?(\d{15,21})>")
ROLE_MENTION_RE = re.compile(r"<@&(\d{15,21})>")
EVERYONE_RE = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class Pings:
    """The notifications a message actually triggers."""

    users: frozenset[int] = field(default_factory=frozenset)
    roles: frozenset[int] = field(default_factory=frozenset)
    everyone: bool = False

    @property
    def any(self) -> bool:
        """Whether anybody at all gets pinged."""
        return bool(self.users or self.roles or self.everyone)


def mentioned_user_ids(content: str) -> list[int]:
    """User ids written as ``<@id>`` / ``<@!id>`` in ``content``, in order, without duplicates."""
    return list(dict.fromkeys(int(m) for m in USER_MENTION_RE.findall(content)))


def mentioned_role_ids(content: str) -> list[int]:
    """Role ids written as ``<@&id>`` in ``content``, in order, without duplicates."""
    return list(dict.fromkeys(int(m) for m in ROLE_MENTION_RE.findall(content)))


def compute_pings(
    content: str,
    allowed_mentions: Mapping[str, Any] | None,
    *,
    author_id: int,
    can_mention_everyone: bool,
    mentionable_roles: Collection[int],
    existing_roles: Collection[int],
    reachable_users: Collection[int] | None,
    replied_author_id: int | None = None,
) -> Pings:
    """Compute the pings of a message.

    ``reachable_users`` is the set of user ids that can receive a ping (members that can view
    the channel); ``None`` means "anyone" (DMs).
    """
    if allowed_mentions is None:
        parse: set[str] = {"users", "roles", "everyone"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
        replied_user = True
    else:
        parse = set(allowed_mentions.get("parse") or [])
        allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
        allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
        replied_user = bool(allowed_mentions.get("replied_user", False))

    users: set[int] = set()
    for uid in mentioned_user_ids(content):
        if "users" in parse or uid in allowed_users:
            users.add(uid)
    if replied_user and replied_author_id is not None:
        users.add(replied_author_id)
    users.discard(author_id)
    if reachable_users is not None:
        users &= set(reachable_users)

    roles: set[int] = set()
    for rid in mentioned_role_ids(content):
        if rid not in existing_roles:
            continue
        if ("roles" in parse or rid in allowed_roles) and (rid in mentionable_roles or can_mention_everyone):
            roles.add(rid)

    everyone = bool(EVERYONE_RE.search(content)) and "everyone" in parse and can_mention_everyone
    return Pings(frozenset(users), frozenset(roles), everyone)
