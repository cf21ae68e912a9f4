"""Publish/subscribe for order events."""

from collections.abc import Callable

_LISTENERS: list[Callable[[dict], None]] = []


def subscribe(listener: Callable[[dict], None]) -> None:
    _LISTENERS.append(listener)


def publish(event: dict) -> None:
    for listener in _LISTENERS:
        listener(event)
