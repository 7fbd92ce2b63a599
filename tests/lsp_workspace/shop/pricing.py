"""Prices for an order: lines, discounts, totals."""

from __future__ import annotations

import functools

RATE = 0.2


def line_total(price, quantity):
    return price * quantity


@functools.lru_cache(maxsize=128)
def discount(code):
    if code == "HALF":
        return 0.5
    if code == "TENTH":
        return 0.1
    return 0.0


def order_total(items, code=""):
    gross = 0
    for price, quantity in items:
        gross += line_total(price, quantity)
    net = gross * (1 - discount(code))
    return round(net * (1 + RATE), 2)


class Cart:
    def __init__(self):
        self.items = []

    def add(self, price, quantity=1):
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, not {quantity}")
        self.items.append((price, quantity))

    def total(self, code=""):
        return order_total(self.items, code)
