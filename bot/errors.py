"""Exceptions whose text is meant for people, not logs.

Every expected condition a member or admin can run into is a subclass of `UserFacingError` that carries its own
sentence, so the one error handler (bot/tree.py) shows it as-is and no cog translates errors by hand. This module
never imports discord: the domain layer raises these too.
"""

from __future__ import annotations

import secrets


class UserFacingError(Exception):
    """An error whose message is shown to the user as-is (ephemeral), without a traceback in the log.

    Subclasses set `default_message`, the sentence used when none is given, so each can be raised bare.
    """

    default_message = "That didn't work; please check what you entered and try again."

    def __init__(self, message: str | None = None) -> None:
        text = message or self.default_message
        super().__init__(text)
        self.message = text


class StartupError(Exception):
    """A problem that stops the bot from starting; its message is printed as one clear sentence."""


def error_code() -> str:
    """Return a short code that ties a log line to what a user or operator saw."""
    return secrets.token_hex(3).upper()
