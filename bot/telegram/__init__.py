"""The Telegram channel: the only package that imports ``telegram`` (python-telegram-bot).

It turns updates into inputs for :class:`bot.service.ConversationService` and rendered
messages into Bot API calls. No domain state lives in PTB's ``user_data`` or a
``ConversationHandler``: the session in our database is the one truth.
"""
