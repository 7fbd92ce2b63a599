"""The example's entry point: `python -m scopeline.engine.demo.example.app`."""

from __future__ import annotations

from scopeline.engine.demo.example.inventory import Inventory
from scopeline.engine.demo.example.shipping import plan_shipment
from scopeline.engine.demo.example.worker import run_worker

ORDERS = [("apple", 3), ("pear", 16), ("melon", 40), ("apple", 3), ("apple", 3)]


def main() -> list[str]:
    inventory = Inventory({"apple": 20, "pear": 30, "melon": 5})
    results = run_worker(inventory, ORDERS)
    for line in results:
        print(line)
    for destination in ("national", "international"):
        print(f"shipping to {destination}: {plan_shipment(ORDERS, destination)}")
    return results


if __name__ == "__main__":
    main()
