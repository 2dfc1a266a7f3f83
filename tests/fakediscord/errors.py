"""Discord's JSON error responses, raised inside route handlers and rendered by a middleware."""

from __future__ import annotations

from typing import Any


class DiscordError(Exception):
    """An error response exactly as Discord would send it (HTTP status + JSON body)."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """Return the JSON body Discord sends for this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def not_found(what: str = "404: Not Found", code: int = 0) -> DiscordError:
    """Build a generic 404, or a specific ``Unknown X`` one when ``code`` is given."""
    return DiscordError(404, code, what)


def unknown_channel() -> DiscordError:
    """10003 Unknown Channel."""
    return DiscordError(404, 10003, "Unknown Channel")


def unknown_guild() -> DiscordError:
    """10004 Unknown Guild."""
    return DiscordError(404, 10004, "Unknown Guild")


def unknown_member() -> DiscordError:
    """10007 Unknown Member."""
    return DiscordError(404, 10007, "Unknown Member")


def unknown_message() -> DiscordError:
    """10008 Unknown Message."""
    return DiscordError(404, 10008, "Unknown Message")


def unknown_role() -> DiscordError:
    """10011 Unknown Role."""
    return DiscordError(404, 10011, "Unknown Role")


def unknown_webhook() -> DiscordError:
    """10015 Unknown Webhook (also what an expired or unacknowledged interaction token gives)."""
    return DiscordError(404, 10015, "Unknown Webhook")


def unknown_user() -> DiscordError:
    """10013 Unknown User."""
    return DiscordError(404, 10013, "Unknown User")


def unknown_command() -> DiscordError:
    """10063 Unknown application command."""
    return DiscordError(404, 10063, "Unknown application command")


def unknown_interaction() -> DiscordError:
    """10062 Unknown interaction: bad id/token or the 3-second window has passed."""
    return DiscordError(404, 10062, "Unknown interaction")


def already_acknowledged() -> DiscordError:
    """40060 Interaction has already been acknowledged."""
    return DiscordError(400, 40060, "Interaction has already been acknowledged.")


def missing_permissions() -> DiscordError:
    """50013 Missing Permissions."""
    return DiscordError(403, 50013, "Missing Permissions")


def missing_access() -> DiscordError:
    """50001 Missing Access (the bot cannot see the channel at all)."""
    return DiscordError(403, 50001, "Missing Access")


def other_users_message() -> DiscordError:
    """50005 Cannot edit a message authored by another user."""
    return DiscordError(403, 50005, "Cannot edit a message authored by another user")


def empty_message() -> DiscordError:
    """50006 Cannot send an empty message."""
    return DiscordError(400, 50006, "Cannot send an empty message")


def unauthorized() -> DiscordError:
    """401 for a missing or wrong bot token."""
    return DiscordError(401, 0, "401: Unauthorized")


def invalid_form_body(errors: dict[str, Any]) -> DiscordError:
    """50035 Invalid Form Body with Discord's nested ``errors`` object."""
    return DiscordError(400, 50035, "Invalid Form Body", errors)
