"""Logging set-up: one handler to stdout, which is what Docker and systemd expect."""

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


def setup_logging(level: str) -> None:
    """Send every log record at `level` or above to stdout and quieten discord.py's HTTP chatter."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Every REST call is logged at DEBUG/INFO by discord.http; rate-limit warnings still get through.
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
