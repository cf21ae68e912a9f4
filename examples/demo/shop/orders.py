"""Orders, with an audit trail that is meant to be flushed but never is."""

import uuid


class Order:
    audit: list["Order"] = []  # class-level registry: every order ever made

    def __init__(self, sku: str, quantity: int) -> None:
        self.id = uuid.uuid4().hex
        self.sku = sku
        self.quantity = quantity
        self.lines = [f"{sku} x{quantity}"] * quantity
        Order.audit.append(self)


class Basket:
    """Holds its orders in a reference cycle; the collector frees it (not a leak)."""

    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.me = self
