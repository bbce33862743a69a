"""Conversations with residents and officers: the logic, one module per conversation.

With what they need: the survey engine, i18n, the deployment file. Imports nothing from bot/
nor telegram (tests/test_floors.py). Each module declares the buttons and typed text it
answers (its BUTTONS and TEXT, conversations/routes.py); bot/routing.py routes by them.
"""
