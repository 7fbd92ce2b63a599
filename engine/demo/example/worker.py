"""A worker thread that prices orders taken from a queue."""

from __future__ import annotations

import queue
import threading

from scopeline.engine.demo.example.inventory import Inventory, OutOfStock
from scopeline.engine.demo.example.pricing import order_total


def process(inventory: Inventory, item: str, quantity: int) -> str:
    try:
        inventory.reserve(item, quantity)
    except OutOfStock as exc:
        return f"rejected ({exc})"
    return f"{quantity} x {item} = {order_total(item, quantity)}"


def run_worker(inventory: Inventory, orders: list[tuple[str, int]]) -> list[str]:
    todo: queue.Queue[tuple[str, int] | None] = queue.Queue()
    results: list[str] = []

    def work() -> None:
        while (order := todo.get()) is not None:
            results.append(process(inventory, *order))

    thread = threading.Thread(target=work, name="order-worker")
    thread.start()
    for order in orders:
        todo.put(order)
    todo.put(None)
    thread.join()
    return results
