"""Turn domain cards into discord embeds; the one place that knows both."""

from __future__ import annotations

import discord

from bot.domain.content import Card

EMBED_COLOUR = discord.Colour.from_rgb(88, 101, 242)


def card_embed(card: Card) -> discord.Embed:
    """Render a card as an embed (cards are validated against Discord's limits when content loads)."""
    embed = discord.Embed(title=card.title, description=card.description, url=card.url, colour=EMBED_COLOUR)
    for name, value in card.fields:
        embed.add_field(name=name, value=value, inline=False)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed
