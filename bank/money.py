"""Money: amounts are integer fen (分) everywhere; yuan text only where a person reads or types one."""

from __future__ import annotations

import re

from .errors import InvalidInput


def yuan(fen: int | None) -> str:
    """Fen as yuan text with two decimals: 1250 -> '12.50', -150 -> '-1.50', None -> '0.00'."""
    fen = fen or 0
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def parse_yuan(raw) -> int:
    """'12', '12.5', '12.50' yuan (as typed in a form or on the command line) -> fen, no floats."""
    m = re.fullmatch(r"(\d{1,6})(?:\.(\d{1,2}))?", raw.strip() if isinstance(raw, str) else "")
    if not m:
        raise InvalidInput("价值须为金额,如 12 或 12.50(元)。", "value must be an amount in yuan like 12.50")
    return int(m[1]) * 100 + int((m[2] or "0").ljust(2, "0"))
