"""The bot end to end through the fake Bot API, and its parts."""
