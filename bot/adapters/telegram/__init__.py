"""The Telegram adapter: updates become engine events, replies become Bot API calls."""
