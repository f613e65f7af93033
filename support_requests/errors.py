"""The support-request store's exceptions. Callers at the edges (CLI, actions, HTTP views) turn them into messages.

Messages name references and fields, never personal values (email addresses,
phone or organisation numbers), so they are safe to log.
"""

from __future__ import annotations


class SupportRequestError(Exception):
    """Base class of every error the support-request store raises on purpose."""


class RequestValidationError(SupportRequestError, ValueError):
    """A value at the boundary cannot be accepted; ``field`` names it.

    The message says what is wrong and what is accepted, without repeating the
    rejected value (it may be personal data).
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}")


class RequestNotFoundError(SupportRequestError, LookupError):
    """No support request has the given reference."""

    def __init__(self, reference: str):
        self.reference = reference
        super().__init__(f"no support request with reference '{reference}'")


class InvalidTransitionError(SupportRequestError):
    """The requested change is not allowed from the request's current status."""

    def __init__(self, reference: str, current: str, wanted: str, hint: str = ""):
        self.reference = reference
        self.current = current
        self.wanted = wanted
        message = f"{reference} cannot go from '{current}' to '{wanted}'"
        super().__init__(f"{message}; {hint}" if hint else message)


class StoreUnavailableError(SupportRequestError):
    """The request database cannot be reached or used (connection refused, locked for too long, ...)."""


class DeliveryError(SupportRequestError):
    """A notification could not be delivered this time; the outbox retries it later.

    ``detail`` is a short, log-safe description (an exception type or a status
    code), never the message body or a recipient.
    """

    permanent = False

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


class PermanentDeliveryError(DeliveryError):
    """The receiver refused the notification for good (a 5xx SMTP reply, a 4xx HTTP status); no retry helps."""

    permanent = True
