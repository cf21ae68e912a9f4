"""Tests that leak: each run leaves memory behind that the next run adds to."""

import itertools

from shop import events, orders, pricing

_counter = itertools.count()


def test_quote_memo_grows():
    # A new key on every run: the hand-made memo grows without bound.
    n = next(_counter)
    assert pricing.quote("ABC-0001", n / 1000) >= 0


def test_order_audit_trail():
    order = orders.Order("ABC-0002", 20)
    assert order.quantity == 20


def test_listener_registered_per_test():
    seen = []
    events.subscribe(lambda event: seen.append(event))
    events.publish({"id": 1})
    assert seen
