"""The edge: Telegram routing, settings, wiring, command line, delivery, scheduling, the webhook.

Nothing in conversations/ or storage/ imports from here (tests/test_floors.py).
"""

import os

# python-telegram-bot 22 is moving time periods (a 429's retry_after) from seconds to timedelta
# and warns on every 429 until a program opts in; the bot reads both forms (bot/delivery.py).
os.environ.setdefault("PTB_TIMEDELTA", "1")
