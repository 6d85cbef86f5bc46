"""Errors the bank raises: each carries a stable code and a plain sentence in Chinese and English."""

from __future__ import annotations


class BankError(Exception):
    """A refusal that a user may see. ``code`` is stable; ``zh``/``en`` are the sentences."""

    code = "bank_error"

    def __init__(self, zh: str, en: str, *, code: str | None = None):
        super().__init__(en)
        self.zh = zh
        self.en = en
        if code is not None:
            self.code = code

    def message(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en

    def __str__(self) -> str:
        return f"{self.zh} ({self.en})"


class NotFound(BankError):
    code = "not_found"


class InvalidInput(BankError):
    code = "invalid_input"


class CapExceeded(BankError):
    code = "cap_exceeded"


class AlreadyReversed(BankError):
    code = "already_reversed"


class AccountInactive(BankError):
    code = "account_inactive"


class InsufficientPoints(BankError):
    code = "insufficient_points"


class DatabaseError(BankError):
    code = "database"


class ReasonedRefusal(BankError):
    """A refusal whose sentences come from the subclass's ``REASONS`` table (reason -> (zh, en),
    with ``{placeholders}`` filled from keyword values); a reason outside the table carries its
    own ``zh`` and ``en`` (e.g. a card refusal passed through). ``reason`` is the stable code."""

    REASONS: dict[str, tuple[str, str]] = {}

    def __init__(self, reason: str, **values):
        if reason in self.REASONS:
            zh, en = self.REASONS[reason]
            zh, en = zh.format(**values), en.format(**values)
        else:
            zh, en = values["zh"], values["en"]
        super().__init__(zh, en, code=reason)
        self.reason = reason
