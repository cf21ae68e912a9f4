"""The walks over ``sys.modules`` survive a module leaving it while they run.

``list(sys.modules.items())`` allocates a tuple per module, any of which may run the
collector and with it a finalizer that removes a module: copied in one piece instead."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterator

import pytest

from leak_forensics.harness import user_namespace_values, user_roots


class _DropsAModuleWhenCollected:
    """Cyclic garbage whose finalizer removes a module, as jinja2's ``ModuleLoader`` does
    with the package it registered when the loader is collected, and leaves the next of
    them as garbage: each collection removes one, so some happen mid-walk."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.cycle = self

    def __del__(self) -> None:
        sys.modules.pop(self.names[0], None)
        if self.names[1:]:
            _DropsAModuleWhenCollected(self.names[1:])


@pytest.fixture
def collections_during_the_walk() -> Iterator[list[str]]:
    names = [f"_leak_forensics_doomed_{i}" for i in range(50)]
    for name in names:
        module = types.ModuleType(name)
        module.__file__ = f"/user/{name}.py"
        module.value = [name]
        sys.modules[name] = module
    threshold = gc.get_threshold()
    try:
        yield names
    finally:
        gc.enable()
        gc.set_threshold(*threshold)
        for name in names:
            sys.modules.pop(name, None)


@pytest.mark.parametrize("walk", [lambda: list(user_namespace_values(lambda f: True)),
                                  lambda: user_roots(lambda f: True)],
                         ids=["namespace values", "roots"])
def test_a_module_that_leaves_sys_modules_during_the_walk_breaks_nothing(
        collections_during_the_walk: list[str], walk) -> None:
    gc.disable()
    _DropsAModuleWhenCollected(collections_during_the_walk)  # garbage at once
    gc.set_threshold(1)  # nearly every allocation of a tracked object runs the collector
    gc.enable()
    walk()
    gc.collect()
    assert not any(name in sys.modules for name in collections_during_the_walk)
