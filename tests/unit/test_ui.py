"""The shared UI helpers: views of persistent components."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.exts.concepts.sharing import ShareButton
from bot.ui import persistent_view


async def test_persistent_view_is_finished_so_discord_py_does_not_store_it() -> None:
    """The view holds the items in order and is already stopped: sending it only serialises it."""
    view = persistent_view(ShareButton("concept", "a"), ShareButton("concept", "b"))
    assert view.is_finished()
    (row,) = view.to_components()
    assert [button["custom_id"] for button in row["components"]] == ["align:share:concept:a", "align:share:concept:b"]


async def test_persistent_view_refuses_a_plain_component() -> None:
    """A plain button would need the stored view to be dispatched, so it is refused rather than silently dead."""
    plain: Any = discord.ui.Button(label="x", custom_id="x")
    with pytest.raises(TypeError, match="DynamicItems only"):
        persistent_view(plain)
