"""What can go wrong in the bank, each with a stable machine-readable code.

The HTTP layer (app.api.errors) decides which status each one gets.
"""


class BankError(Exception):
    code = "bank_error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidCredentials(BankError):
    code = "invalid_credentials"


class SessionEnded(BankError):
    """The token's user no longer exists or the token was logged out."""

    code = "unauthorized"


class AccountLocked(BankError):
    code = "account_locked"


class NotFound(BankError):
    code = "not_found"


class _RuleBroken(BankError):
    """A family of errors whose code names the rule that was broken."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message, **details)
        self.code = code


class InvalidRequest(_RuleBroken):
    """Well-formed input that breaks a rule (unknown recipient, own account, too large...)."""

    code = "invalid_request"


class IdempotencyMismatch(BankError):
    code = "idempotency_key_reused"


class InvalidTan(BankError):
    code = "invalid_tan"


class TanExpired(BankError):
    code = "tan_expired"


class TransferClosed(_RuleBroken):
    """The transfer can no longer be confirmed (cancelled after wrong TANs, or rejected)."""


class InsufficientFunds(TransferClosed):
    def __init__(self, message="The balance does not cover this transfer.", **details):
        super().__init__("insufficient_funds", message, **details)


class MonthlyLimitExceeded(TransferClosed):
    def __init__(self, message="This transfer would exceed your monthly limit.", **details):
        super().__init__("monthly_limit_exceeded", message, **details)
