"""Adapters: turn what arrives (a terminal line, a Telegram update) into engine events,
and the engine's replies into output. They decide nothing she sees."""
