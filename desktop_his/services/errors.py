"""Errors the core raises for the UI (and the CLI) to show.

Every user-facing ``message`` is Chinese and says what to do; ``field`` names the input it belongs to so a
view can show it at that place (views map field names to widgets).
"""

from __future__ import annotations


class HisError(Exception):
    """Base of every expected, user-explainable failure."""

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigError(HisError):
    """The settings file or an environment override is invalid."""


class ValidationError(HisError):
    """Bad input; nothing was saved."""


class NotFound(HisError):
    """The record asked for does not exist."""


class Conflict(HisError):
    """The action collides with the current state (duplicate, already done, concurrently changed)."""


class PermissionDenied(HisError):
    """The signed-in staff member's roles do not allow the action."""


class AuthenticationFailed(HisError):
    """Wrong user name or password, or a disabled account."""


class RuleViolation(HisError):
    """A registration rule (SPEC §5) refuses the registration; ``code`` names the rule."""


class SecretStoreError(HisError):
    """The OS keyring cannot keep a secret safely."""


class BankError(HisError):
    """The bank answered FAILED with a code (the operation definitely did not happen)."""


class BankOutcomeUnknown(HisError):
    """Timeout, connection failure, ADPTSY*, PROCESSING: the outcome is not known yet.

    Never treat this as failure: the journal resolves it by query or by resending the same number.
    """
