"""Prices, memoised — once correctly, once not."""

import functools
import re

_MEMO: dict[tuple[str, float], float] = {}

_SKU = re.compile(r"^[A-Z]{3}-\d{4}$")


def quote(sku: str, discount: float) -> float:
    """Memoised by hand; nothing ever leaves the memo (the leak)."""
    key = (sku, discount)
    if key not in _MEMO:
        _MEMO[key] = round(100.0 * (1 - discount), 2)
    return _MEMO[key]


@functools.lru_cache(maxsize=64)
def tax_rate(region: str) -> float:
    """Bounded cache: fills up once, then stays the same size (not a leak)."""
    return 0.2 if region.startswith("EU") else 0.1


def valid_sku(sku: str) -> bool:
    return bool(_SKU.match(sku))
