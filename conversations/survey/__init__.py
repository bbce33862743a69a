"""Surveys as data: the consultation model, its file format and the engine that walks it.

Nothing in this package imports Telegram; the same engine serves the bot and
`haveyoursay preview`.
"""
