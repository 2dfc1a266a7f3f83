"""Reading the contenders' cProfile dumps: where our bot spends more CPU than the minimal bot, per interaction."""

from __future__ import annotations

import pstats
from pathlib import Path

from tests.processes import ROOT

# pstats' raw table: (file, line, function) -> (primitive calls, calls, own time, cumulative time, callers)
Key = tuple[str, int, str]
Entry = tuple[int, int, float, float, object]


def load(path: Path) -> dict[Key, Entry]:
    """Return the raw table of a cProfile dump."""
    table: dict[Key, Entry] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    return table


def where(key: Key) -> str:
    """Return `file:line function`, with the file relative to the repository or to site-packages."""
    file, line, name = key
    short = file.replace(f"{ROOT}/", "")
    if "site-packages/" in short:
        short = short.split("site-packages/", 1)[1]
    return f"{short}:{line} {name}"


AREAS = (("bot/", "our code (bot/)"), ("discord/", "discord.py"), ("aiohttp/", "aiohttp, yarl, multidict"),
         ("yarl/", "aiohttp, yarl, multidict"), ("multidict/", "aiohttp, yarl, multidict"), ("asyncio/", "asyncio"),
         ("aiosqlite/", "aiosqlite"), ("~", "built-ins (C)"))  # fmt: skip


def area(key: Key) -> str:
    """Return which part of the program a function belongs to."""
    file = where(key).split(":")[0]
    return next((name for prefix, name in AREAS if file.startswith(prefix) or f"/{prefix}" in file), "other")


def by_area(table: dict[Key, Entry]) -> dict[str, float]:
    """Return the own CPU seconds of each area."""
    totals: dict[str, float] = {}
    for key, entry in table.items():
        totals[area(key)] = totals.get(area(key), 0.0) + entry[2]
    return totals


def print_comparison(ours_path: Path, minimal_path: Path, title: str, count: int, limit: int = 15) -> None:
    """Print the functions whose own CPU most exceeds the minimal bot's, and our code's heaviest functions."""
    ours, minimal = load(ours_path), load(minimal_path)
    per = 1e6 / count  # seconds over the window -> microseconds per interaction
    ours_total = sum(entry[2] for entry in ours.values()) * per
    minimal_total = sum(entry[2] for entry in minimal.values()) * per
    print(
        f"\n{title}: event-loop thread CPU under cProfile (which inflates it), ours {ours_total:.0f} µs vs minimal "
        f"{minimal_total:.0f} µs per interaction"
    )
    print("  own CPU by area (µs per interaction: ours, minimal, difference)")
    ours_areas, minimal_areas = by_area(ours), by_area(minimal)
    for name in sorted(ours_areas, key=lambda name: -(ours_areas[name] - minimal_areas.get(name, 0.0))):
        mine, theirs = ours_areas[name] * per, minimal_areas.get(name, 0.0) * per
        print(f"    {mine:7.1f} {theirs:7.1f} {mine - theirs:+7.1f}  {name}")
    print("  own CPU above the minimal bot's (µs per interaction: ours, minimal, difference; calls per interaction)")
    gaps = sorted(ours, key=lambda key: -(ours[key][2] - (minimal[key][2] if key in minimal else 0.0)))
    for key in gaps[:limit]:
        mine = ours[key][2] * per
        theirs = minimal[key][2] * per if key in minimal else 0.0
        print(f"    {mine:7.1f} {theirs:7.1f} {mine - theirs:+7.1f}  {ours[key][1] / count:6.2f}  {where(key)}")
    print("  our code (bot/), most cumulative CPU (µs per interaction; calls per interaction)")
    own_code = [key for key in ours if key[0].startswith(f"{ROOT / 'bot'}/")]
    for key in sorted(own_code, key=lambda key: -ours[key][3])[:limit]:
        print(f"    {ours[key][3] * per:7.1f}  {ours[key][1] / count:6.2f}  {where(key)}")
