"""What each member's command picker lists: only commands they can run (Discord filters by top-level command).

Discord hides a command from members lacking its `default_member_permissions`, but only per top-level command: a
subcommand inside a member group is listed to everyone. So admin work lives in its own top-level groups, and these
tests read the payload the bot synced to Discord to check that a member's picker holds nothing that would refuse them.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from discord import Permissions as DiscordPermissions
from discord import app_commands

from bot.bot import AlignmentBot
from tests.e2e.conftest import Server
from tests.fakediscord import FakeDiscord

SUBCOMMAND, GROUP = 1, 2


def leaves(command: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Yield the qualified names of the invocable commands in a synced command payload."""
    name = f"{prefix}{command['name']}"
    children = [o for o in command.get("options", []) if o["type"] in (SUBCOMMAND, GROUP)]
    if not children:
        yield name
    for child in children:
        yield from leaves(child, f"{name} ")


def visible_to(permissions: int, synced: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the top-level commands Discord lists to someone with `permissions` (as a bit field)."""
    return [
        c
        for c in synced
        if c.get("default_member_permissions") is None
        or int(c["default_member_permissions"]) & permissions == int(c["default_member_permissions"])
    ]


def runtime_permissions(command: app_commands.Command[Any, ..., Any]) -> DiscordPermissions:
    """Return the permissions a command's `has_permissions` checks demand when it runs (its own and its groups')."""
    required = DiscordPermissions.none()
    for check in command.checks:
        if check.__qualname__.startswith("has_permissions."):
            required |= DiscordPermissions(**inspect.getclosurevars(check).nonlocals["perms"])
    return required


def tree_command(bot: AlignmentBot, qualified_name: str) -> app_commands.Command[Any, ..., Any]:
    """Find an invocable command in the bot's tree by its full name."""
    found = [c for c in bot.tree.walk_commands() if c.qualified_name == qualified_name]
    assert found and isinstance(found[0], app_commands.Command), qualified_name
    return found[0]


async def test_a_members_picker_holds_only_commands_they_can_run(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """Every command listed to a plain member passes its own permission checks for that member."""
    synced = fake.registered_commands()
    member = server.guild.permissions_for(server.member, server.general)
    listed = [name for c in visible_to(member, synced) for name in leaves(c)]
    assert {"concept", "pdoom results", "pdoom mine", "prompts suggest", "help"} <= set(listed)
    refused = [name for name in listed if runtime_permissions(tree_command(bot, name)).value & ~member]
    assert refused == []


async def test_every_admin_command_is_hidden_from_members_and_listed_to_admins(
    fake: FakeDiscord, server: Server, bot: AlignmentBot
) -> None:
    """A command that demands Manage Server at run time sits in a top-level group only admins see."""
    synced = fake.registered_commands()
    member = server.guild.permissions_for(server.member, server.general)
    admin = server.guild.permissions_for(server.admin, server.general)
    every = [name for c in synced for name in leaves(c)]
    admin_only = [name for name in every if runtime_permissions(tree_command(bot, name)).value]
    assert {"pdoom-admin open", "prompts-admin schedule", "status"} <= set(admin_only)
    member_listed = {name for c in visible_to(member, synced) for name in leaves(c)}
    admin_listed = {name for c in visible_to(admin, synced) for name in leaves(c)}
    assert member_listed.isdisjoint(admin_only)
    assert set(admin_only) <= admin_listed
    hidden_groups = {c["name"] for c in synced} - {c["name"] for c in visible_to(member, synced)}
    assert hidden_groups == {"pdoom-admin", "prompts-admin", "content", "status"}
