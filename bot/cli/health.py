"""`python -m bot health [--ready]`: exit 0 when the running bot is healthy, 1 with a sentence saying why not.

With HEALTH_PORT set it asks the listener (`/healthz`, or `/readyz` with --ready); without, it reads the heartbeat
file the bot rewrites every 15 s (bot/health.py). Docker's HEALTHCHECK runs it, so it loads neither discord.py nor
the database, and gives up after a few seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.settings import Settings

TIMEOUT = 3.0  # seconds; Docker's own HEALTHCHECK timeout is longer
# As in bot/health.py (not imported: that module loads discord.py and aiohttp, which a health probe does not need).
HEARTBEAT_STALE_AFTER = 60.0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `health` to the command line."""
    health = sub.add_parser("health", help="exit 0 if the running bot is healthy, 1 otherwise (for HEALTHCHECK)")
    health.add_argument(
        "--ready", action="store_true", help="also require it connected to Discord with its database answering"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the running bot and return the exit code; print one line saying what was found."""
    if settings.health_port is not None:
        problem = ask_listener(settings.health_host, settings.health_port, "/readyz" if args.ready else "/healthz")
    else:
        problem = read_heartbeat(settings.heartbeat_file, ready=args.ready)
    if problem is not None:
        print(f"Unhealthy: {problem}", file=sys.stderr)  # noqa: T201 - the command's answer
        return 1
    print("Healthy")  # noqa: T201 - the command's answer
    return 0


def ask_listener(host: str, port: int, path: str) -> str | None:
    """GET `path` from the health listener; return why it is unhealthy, or None on 200."""
    # A listener on every address is reached on loopback; an IPv6 literal needs brackets in a URL.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104 - only mapped
    netloc = f"[{host}]" if ":" in host else host
    url = f"http://{netloc}:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            response.read()
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace").strip()[:200]
        return f"{path} answered {error.code}: {body or error.reason}"
    except OSError as error:  # URLError is an OSError: refused, unreachable, timed out
        cause = getattr(error, "reason", None) or error
        return f"nothing answered at {url} ({cause}); is the bot running with HEALTH_PORT={port}?"
    return None


def read_heartbeat(path: Path, *, ready: bool) -> str | None:
    """Read the heartbeat file; return why it shows an unhealthy bot, or None when it is fresh (and ready)."""
    try:
        beat = json.loads(path.read_text(encoding="utf-8"))
        written, is_ready = float(beat["time"]), bool(beat["ready"])
    except FileNotFoundError:
        return f"there is no heartbeat at {path}: the bot is not running, or not yet started."
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"the heartbeat at {path} cannot be read ({type(error).__name__})."
    age = time.time() - written
    if age > HEARTBEAT_STALE_AFTER:
        return f"the heartbeat at {path} is {age:.0f} s old: the bot stopped or its event loop is stuck."
    if ready and not is_ready:
        return "the bot is running but not connected to Discord (not ready)."
    return None
