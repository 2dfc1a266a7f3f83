"""A month of weekly prompts across 21 servers, with broken channels, a removal and two gateway drops.

Every healthy server gets exactly one post a week, on time; every broken one gets exactly one alert per failed
week and no retries (the requests are counted); the server that removed the bot is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import BotRunner, Community, Server, community
from tests.e2e.test_prompts import handled_now, prompt_posts
from tests.e2e.test_prompts_faults import MESSAGES, THREADS, alerts, posts_to, schedule_in
from tests.fakediscord import FakeDiscord, Permissions

WEEKS = [datetime(2026, 11, 27, 19, 0, tzinfo=UTC) + timedelta(weeks=n) for n in range(4)]  # Fridays 19:00 UTC
# One instant, four local times: (weekday, local time, zone) of Friday 19:00 UTC in Nov-Dec 2026.
ZONES = [
    (4, "19:00", "Europe/London"),
    (4, "14:00", "America/New_York"),
    (5, "00:30", "Asia/Kolkata"),
    (5, "06:00", "Australia/Sydney"),
]


@dataclass
class Place:
    """A server in the simulation and how it is broken, if it is."""

    where: Community
    broken: str  # "", "permission", "automod", "forbidden"


def posted_weeks(fake: FakeDiscord, place: Place) -> int:
    """Count the prompt posts in a server's channel."""
    return len(prompt_posts(fake, place.where.prompts))


async def settle(fake: FakeDiscord, runner: BotRunner, done: Callable[[], bool]) -> None:
    """Let the scheduler work at the due time, allowing the documented on-time tolerance (5 min) and no more."""
    for _ in range(10):
        try:
            await fake.changed.wait_for(done, 2.0, "this week's posts and alerts")
            return
        except TimeoutError:
            await runner.clock.advance(timedelta(seconds=30))  # a server still waiting (e.g. after a re-identify)
    raise AssertionError("this week's posts and alerts were not all made within the on-time tolerance")


async def test_a_month_of_twenty_servers_with_faults(fake: FakeDiscord, server: Server, runner: BotRunner) -> None:
    """21 servers, a third refusing the bot, one removing it, two gateway drops: one post a week each, on time."""
    kinds = ["permission", "automod", "forbidden"] * 2 + ["permission"] + [""] * 14
    places = [Place(community(fake, f"s{i}"), broken) for i, broken in enumerate(kinds)]
    leaver = places[-1]
    bot = await runner.start()
    for index, place in enumerate(places):
        weekday, local_time, zone = ZONES[index % len(ZONES)]
        answer = await schedule_in(fake, place.where, weekday=weekday, time=local_time, timezone=zone)
        assert "Next: <t:" + str(int(WEEKS[0].timestamp())) in answer, answer
    for place in places:
        channel, guild = place.where.prompts, place.where.guild
        if place.broken == "permission":
            guild.set_overwrite(channel, guild.bot_member, deny=Permissions.SEND_MESSAGES)
        elif place.broken == "automod":
            fake.refuse(channel, 200000, "Message was blocked by AutoMod", status=400)
        elif place.broken == "forbidden":
            fake.refuse(channel, 50013, "Missing Permissions")
    await fake.sync()
    healthy = [p for p in places if not p.broken and p is not leaver]
    broken = [p for p in places if p.broken]
    assert len(places) >= 20 and len(broken) * 3 >= len(places)

    for week, due in enumerate(WEEKS, start=1):
        if week == 2:
            fake.remove_bot(leaver.where.guild)
            await fake.close_gateway(4000)  # a drop just before the due time: the bot resumes
            await fake.wait_for_resume()
        await runner.clock.set(due)
        if week == 3:
            await fake.reidentify()  # a drop at the due time: the bot identifies anew

        def week_done(week: int = week) -> bool:
            posted = all(posted_weeks(fake, p) == week == posts_to(fake, p.where.prompts, THREADS) for p in healthy)
            left_alone = posted_weeks(fake, leaver) == 1 == posts_to(fake, leaver.where.prompts, THREADS)
            return posted and left_alone and all(len(alerts(fake, p.where.mods)) == week for p in broken)

        await settle(fake, runner, week_done)
        await runner.clock.advance(timedelta(hours=6))  # nothing more happens later in the week
        await handled_now(runner, bot)
        assert week_done(), f"week {week}"

    for place in healthy:
        footers = {post.embeds[0]["footer"]["text"] for post in prompt_posts(fake, place.where.prompts)}
        assert len(footers) == len(WEEKS)  # four different weeks, one post each
        assert posts_to(fake, place.where.prompts) == len(WEEKS)
        assert posts_to(fake, place.where.prompts, THREADS) == len(WEEKS)
    for place in broken:
        texts = alerts(fake, place.where.mods)
        assert len(texts) == len(WEEKS)
        expected = {
            "permission": "I lack Send Messages",
            "automod": "AutoMod blocked the post",
            "forbidden": "Discord says I lack a permission",
        }[place.broken]
        assert all(expected in text for text in texts)
        # A pre-checked permission never reaches Discord; a refusal is tried once a week, never retried.
        assert posts_to(fake, place.where.prompts) == (0 if place.broken == "permission" else len(WEEKS))
    assert posted_weeks(fake, leaver) == 1 and alerts(fake, leaver.where.mods) == []
    leaver_row = await bot.db.schedules.get_schedule(leaver.where.guild.id)
    assert leaver_row is not None and leaver_row.absent
    # Every message the bot sent in the month, counted: healthy posts, the leaver's first week, one alert per
    # broken week, and the refused attempts (one per week where Discord itself refused).
    refused = sum(len(WEEKS) for p in broken if p.broken != "permission")
    total = len(healthy) * len(WEEKS) + 1 + len(broken) * len(WEEKS) + refused
    assert len(fake.requests_to("POST", MESSAGES)) == total
