"""The assistant's chat on the web: the public site's ``/chat/``, the cabinet's ``/cabinet/chat/``, the
staff inbox ``/assistant/chats/`` and the Telegram webhook. Every reply comes from
:mod:`okno.assistant.dialogue.engine`; these views only carry text in and out."""
