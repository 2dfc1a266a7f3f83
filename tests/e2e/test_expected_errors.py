"""Every expected condition reaches the user as its own sentence: no hand translation, no generic error."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path

import discord
from discord import app_commands

import bot
from bot.bot import AlignmentBot
from bot.domain.content import ContentError, ContentInvalid
from bot.errors import UserFacingError
from tests.e2e.conftest import BotRunner, Server

ROOT = bot.__path__
# Errors that need more than a sentence to be built; every other one can be raised bare.
EXAMPLES: dict[type[UserFacingError], Callable[[], UserFacingError]] = {
    ContentInvalid: lambda: ContentInvalid(
        [ContentError("content/readings.yaml", 3, "url", "must start with https://")]
    )
}


def example(cls: type[UserFacingError]) -> UserFacingError:
    """Build an instance of an expected error the way the code raises it."""
    return EXAMPLES.get(cls, cls)()


def expected_error_classes() -> list[type[UserFacingError]]:
    """Import every bot module, then return every subclass of UserFacingError (and the class itself)."""
    for module in pkgutil.walk_packages(ROOT, "bot."):
        if module.name != "bot.__main__":
            importlib.import_module(module.name)
    found: list[type[UserFacingError]] = []
    pending: list[type[UserFacingError]] = [UserFacingError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.__qualname__)


def test_the_domain_errors_are_expected_errors() -> None:
    """The errors members and admins meet in the domain are all UserFacingErrors (so none needs translating)."""
    names = {cls.__name__ for cls in expected_error_classes()}
    assert {"EstimateError", "RoundClosed", "RoundAlreadyOpen", "ScheduleError", "EditRejected"} <= names
    assert {"ContentInvalid", "AlreadyReviewed"} <= names


def test_no_cog_translates_errors_by_hand() -> None:
    """No module re-wraps an expected error's text in another UserFacingError."""
    for path in bot.__path__:
        for file in Path(path).rglob("*.py"):
            assert not re.search(r"UserFacingError\(str\(", file.read_text()), file


async def test_every_expected_error_reaches_the_user_as_its_own_sentence(
    fake: object, server: Server, runner: BotRunner
) -> None:
    """A command raising any UserFacingError subclass answers privately with exactly that sentence and no code."""
    classes = {cls.__qualname__: cls for cls in expected_error_classes()}

    def prepare(client: AlignmentBot) -> None:
        @client.tree.command(name="fail-with", description="Raise an expected error (test only)")
        async def fail_with(interaction: discord.Interaction, name: str) -> None:
            raise example(classes[name])

        assert isinstance(fail_with, app_commands.Command)

    runner.prepare = prepare
    await runner.start()
    for name, cls in classes.items():
        handle = await server.fake.invoke(server.member, "fail-with", {"name": name}, channel=server.general)
        reply = await handle.reply()
        assert handle.ephemeral
        assert reply.content == str(example(cls)), name
        assert "code" not in reply.content and "Something went wrong" not in reply.content
