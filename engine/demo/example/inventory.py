"""Stock keeping: a class with state."""

from __future__ import annotations


class OutOfStock(Exception):
    pass


class Inventory:
    def __init__(self, stock: dict[str, int]) -> None:
        self.stock = dict(stock)

    def __repr__(self) -> str:
        return f"Inventory({sum(self.stock.values())} items)"

    def reserve(self, item: str, quantity: int) -> int:
        available = self.stock.get(item, 0)
        if quantity > available:
            raise OutOfStock(f"{item}: wanted {quantity}, have {available}")
        self.stock[item] = available - quantity
        return self.stock[item]
