"""Cogs: thin layers that parse an interaction, call the domain or database, and render the answer."""
