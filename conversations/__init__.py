"""Conversations with residents and officers: the logic, one module per conversation.

With what they need: the survey engine, i18n, the deployment file. Imports nothing from bot/
nor telegram (tests/test_floors.py).
"""
