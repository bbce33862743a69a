"""The officers' web workspace: a Starlette application served in the bot's own event loop.

Pages live here, at the edge beside the Telegram routing; every rule they apply is a function in
`conversations/`, shared with the officers' chat commands. Templates are Jinja2 with autoescape;
every text goes through the same gettext catalogs as the chat.
"""
