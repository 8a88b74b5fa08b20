"""Domain errors raised by actions and mapped to HTTP answers by the UI and the API."""

from __future__ import annotations


class Conflict(Exception):
    """The action is not allowed in the object's current state (HTTP 409)."""

    def __init__(self, message: str, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class TransitionNotAllowed(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="transition_not_allowed")


class StaleVersion(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="stale_version")
