"""A Discord bot for servers that read and discuss AI alignment."""

__version__ = "0.1.0"
