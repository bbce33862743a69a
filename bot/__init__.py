"""The Telegram application: settings, wiring, command line, delivery, scheduling, i18n."""
