"""The assistant's dialogue engine: a chat on the public site, in the personal cabinet and behind a
messenger bot. The public API is in :mod:`okno.assistant.dialogue.engine` (see docs/assistant/dialogue.md).
"""
