"""Podruga: a Telegram bot for women who use drugs in Eastern Europe and Central Asia."""

__version__ = "0.1.0"
