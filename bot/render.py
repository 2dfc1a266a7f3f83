"""Turn domain cards into discord embeds: the one place that builds an embed, and the one palette."""

from __future__ import annotations

import discord

from bot.domain.card import Card, Tone

COLOURS: dict[Tone, discord.Colour] = {
    "info": discord.Colour.from_rgb(88, 101, 242),
    "error": discord.Colour.red(),
}


def card_embed(card: Card) -> discord.Embed:
    """Render a card as an embed (cards are built within Discord's limits by the domain)."""
    embed = discord.Embed(title=card.title, description=card.description, url=card.url, colour=COLOURS[card.tone])
    for name, value in card.fields:
        embed.add_field(name=name, value=value, inline=False)
    if card.footer:
        embed.set_footer(text=card.footer)
    if card.image:
        embed.set_image(url=f"attachment://{card.image}")
    if card.author:
        embed.set_author(name=card.author)
    return embed
