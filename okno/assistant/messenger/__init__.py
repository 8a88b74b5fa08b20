"""The assistant's messenger bot adapter: Telegram Bot API over HTTPS (webhook in, ``sendMessage`` out).

* :mod:`.client` — a small Bot API client on urllib (JSON POST, timeout, errors as :class:`BotApiError`);
* :mod:`.models` — the update ids already processed and the outbox of what is sent to chats;
* :mod:`.adapter` — an update (``message`` / ``callback_query``) → the dialogue engine;
* :mod:`.outbox` — a message of the engine → one or more ``sendMessage`` calls, kept until sent;
* :mod:`.jobs` — the retry job of the outbox.
"""
