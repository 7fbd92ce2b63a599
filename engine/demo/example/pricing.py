"""Prices, with a recursive bulk discount."""

from __future__ import annotations

PRICES = {"apple": 3, "pear": 4, "melon": 9}


def bulk_discount(quantity: int) -> int:
    """Percent off: 2 points for every doubling past 4 items (recursive on purpose)."""
    if quantity < 8:
        return 0
    return 2 + bulk_discount(quantity // 2)


def order_total(item: str, quantity: int) -> int:
    gross = PRICES[item] * quantity
    discount = bulk_discount(quantity)
    return gross - gross * discount // 100
