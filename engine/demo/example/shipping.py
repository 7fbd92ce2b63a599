"""Shipping: the example's one function with real branching (the demo traces it in hybrid)."""

from __future__ import annotations

ZONES = {"local": 0, "national": 1, "international": 2}
WEIGHTS = {"apple": 0.2, "pear": 0.25, "melon": 1.5}


def plan_shipment(lines: list[tuple[str, int]], destination: str) -> dict[str, float]:
    zone = ZONES.get(destination)
    if zone is None:
        raise ValueError(f"unknown destination {destination!r}")
    weight = 0.0
    fragile = False
    for item, quantity in lines:
        if quantity <= 0:
            continue
        weight += WEIGHTS.get(item, 1.0) * quantity
        if item == "melon" and quantity > 2:
            fragile = True
    if weight == 0:
        return {"boxes": 0, "cost": 0.0}
    boxes = 1
    while weight / boxes > 10:
        boxes += 1
    cost = 4.0 * boxes
    if zone == 1:
        cost *= 1.5
    elif zone == 2:
        cost = cost * 3 + (5 if fragile else 0)
    if fragile and zone < 2:
        cost += 2
    return {"boxes": boxes, "cost": round(cost, 2)}
