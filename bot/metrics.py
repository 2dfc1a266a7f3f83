"""Prometheus metrics: module-level collectors in the default registry, fed from a few single points.

Collectors live at module level so any module can count with one line (`metrics.VOTES.inc()`), and `/metrics`
(bot/health.py) serves the default registry. Tests compare values before and after an action, never absolutes,
since every bot a test process starts shares these collectors. Where each is fed:

- interactions and their outcome: bot/tree.py (every error, and app commands that completed) and bot/ui.py
  (persistent components that completed); acknowledgement latency: an aiohttp trace on discord.py's HTTP session
  that sees each interaction callback (the first response), whose URL carries the interaction id, a snowflake that
  holds the interaction's creation time;
- background-loop restarts and errors by code: bot/background.py, bot/tree.py and the prompt poster;
- votes, prompt outcomes, scheduler lag, content reloads: one line each where the cog commits or decides them;
- gateway latency: read from the bot at scrape time.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import discord
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.domain.content import ContentInvalid

if TYPE_CHECKING:
    from discord.ext import commands

T = TypeVar("T")

INTERACTIONS = Counter(
    "alignment_bot_interactions",
    "Interactions handled, by command (or component) and outcome: ok, user_error, error, or expired (answered after "
    "Discord's 3 s window)",
    ["command", "outcome"],
)
ACK_LATENCY = Histogram(
    "alignment_bot_ack_latency_seconds",
    "Time from an interaction's creation to the bot's first response (Discord's deadline is 3 s)",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0),
)
VOTES = Counter("alignment_bot_votes_recorded", "P(Doom) votes committed to the database")
PROMPTS = Counter(
    "alignment_bot_prompts", "Weekly prompt occurrences by outcome: posted, failed or missed", ["outcome"]
)
SCHEDULER_LAG = Histogram(
    "alignment_bot_scheduler_lag_seconds",
    "How late each weekly post attempt was, after its due time",
    buckets=(1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200, 21600),
)
LOOP_RESTARTS = Counter(
    "alignment_bot_background_loop_restarts",
    "Failed passes of a background loop, which the loop retries after a backoff, by loop",
    ["loop"],
)
ERRORS = Counter(
    "alignment_bot_errors",
    "Unexpected errors and Discord refusals, by code: discord_<JSON code>, http_<status> or the exception type",
    ["code"],
)
CONTENT_RELOADS = Counter(
    "alignment_bot_content_reloads", "Content reloads by outcome: ok, invalid or error", ["outcome"]
)

# Shown at 0 from the start, so a dashboard's rate() has a series before the first event.
for _outcome in ("posted", "failed", "missed"):
    PROMPTS.labels(_outcome)
for _outcome in ("ok", "invalid", "error"):
    CONTENT_RELOADS.labels(_outcome)

_DIGITS = re.compile(r"\d")


def command_label(interaction: discord.Interaction[Any]) -> str:
    """Name what an interaction used, with few distinct values: `/command`, or a component's custom_id shape.

    Ids in a custom_id (round numbers, buckets, discord.py's random ids) become `#`, so the label has no
    unbounded values: `component:align:pdoom:b:#:#`.
    """
    command = interaction.command
    if command is not None:
        return f"/{command.qualified_name}"
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", "")) if isinstance(data, dict) else ""
    shape = ":".join("#" if _DIGITS.search(part) else part for part in custom_id.split(":"))
    kind = "modal" if interaction.type is discord.InteractionType.modal_submit else "component"
    return f"{kind}:{shape[:60]}"


def interaction_done(interaction: discord.Interaction[Any], outcome: str) -> None:
    """Count one interaction's outcome: ok, user_error (answered with a sentence) or error (logged with a code)."""
    INTERACTIONS.labels(command_label(interaction), outcome).inc()


def error_label(error: BaseException) -> str:
    """Return a bounded code for an error: Discord's JSON error code, else the HTTP status, else the type name."""
    if isinstance(error, discord.HTTPException):
        return f"discord_{error.code}" if error.code else f"http_{error.status}"
    return type(error).__name__


def count_error(error: BaseException) -> None:
    """Count an error by its code."""
    ERRORS.labels(error_label(error)).inc()


async def counted_reload(loading: Awaitable[T]) -> T:
    """Await a content load, counting it as a reload that worked, found invalid content, or failed otherwise."""
    try:
        result = await loading
    except ContentInvalid:
        CONTENT_RELOADS.labels("invalid").inc()
        raise
    except Exception:
        CONTENT_RELOADS.labels("error").inc()
        raise
    CONTENT_RELOADS.labels("ok").inc()
    return result


def ack_trace(now: Callable[[], datetime]) -> aiohttp.TraceConfig:
    """Return an aiohttp trace that times every interaction's first response against the interaction's creation.

    `now` is the bot's clock, the one Discord's snowflakes follow (in tests, the fake clock). The URL, which holds
    the interaction's token, is read here and never logged.
    """
    trace = aiohttp.TraceConfig()

    async def on_request_end(
        _session: aiohttp.ClientSession, _context: Any, params: aiohttp.TraceRequestEndParams
    ) -> None:
        parts = params.url.path.rstrip("/").split("/")
        # .../interactions/{interaction_id}/{token}/callback: the initial response, sent once per interaction.
        if len(parts) < 4 or parts[-1] != "callback" or parts[-4] != "interactions" or not parts[-3].isdigit():
            return
        if params.response.status < 300:
            created = discord.utils.snowflake_time(int(parts[-3]))
            ACK_LATENCY.observe(max(0.0, (now() - created).total_seconds()))

    trace.on_request_end.append(on_request_end)
    return trace


class _GatewayLatency(Collector):
    """Reads each shard's gateway heartbeat latency from the bot when /metrics is scraped."""

    def __init__(self) -> None:
        self.bot: weakref.ref[discord.AutoShardedClient] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the latency of every shard of this process that has measured one."""
        family = GaugeMetricFamily(
            "alignment_bot_gateway_latency_seconds",
            "Time between a gateway heartbeat and Discord's acknowledgement, by shard",
            labels=["shard"],
        )
        bot = self.bot() if self.bot is not None else None
        if bot is not None:
            for shard_id, latency in bot.latencies:
                if math.isfinite(latency):  # nan or inf until the first heartbeat is acknowledged
                    family.add_metric([str(shard_id)], latency)
        yield family


_gateway_latency = _GatewayLatency()
REGISTRY.register(_gateway_latency)


def watch(bot: commands.AutoShardedBot) -> None:
    """Feed the metrics from `bot`: its gateway latency, and every app command that completed."""
    _gateway_latency.bot = weakref.ref(bot)

    async def completed(interaction: discord.Interaction[Any], _command: object) -> None:
        interaction_done(interaction, "ok")

    bot.add_listener(completed, "on_app_command_completion")
