"""Gettext catalogs: locales/<lang>/LC_MESSAGES/messages.po (compiled in memory at start-up)."""
