"""Exceptions whose text is meant for people, not logs."""


class UserFacingError(Exception):
    """An error whose message is shown to the user as-is (ephemeral), without a traceback in the log."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StartupError(Exception):
    """A problem that stops the bot from starting; its message is printed as one clear sentence."""
