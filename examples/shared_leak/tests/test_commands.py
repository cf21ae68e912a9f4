"""Every test goes through the test client, which leaks a little on every call; two tests
also leak on their own (``remember`` and ``render`` with a new value each run)."""

import itertools

import pytest

from streamkit import commands

COUNT = 49  # tests per parametrized function: 4 x 49 + 4 = 200 tests
_calls = itertools.count()


@pytest.mark.parametrize("name", [f"user{i}" for i in range(COUNT)])
def test_greet(runner, name):
    assert runner.invoke(commands.greet, name) == f"Hello, {name}!\n"


@pytest.mark.parametrize("text", [f"text {i}" for i in range(COUNT)])
def test_shout(runner, text):
    assert runner.invoke(commands.shout, text) == text.upper() + "\n"


@pytest.mark.parametrize("a", range(COUNT))
def test_add(runner, a):
    assert runner.invoke(commands.add, str(a), "1") == f"{a + 1}\n"


@pytest.mark.parametrize("value", [f"v{i}" for i in range(COUNT)])
def test_render_fixed(runner, value):
    assert runner.invoke(commands.render, "<{}>", value) == f"<{value}>\n"


def test_help(runner):
    assert runner.invoke(commands.greet, "help") == "Hello, help!\n"


def test_empty_name(runner):
    assert runner.invoke(commands.greet, "") == "Hello, !\n"


def test_remember_grows_the_history(runner):
    assert runner.invoke(commands.remember, "entry").endswith(" entries\n")


def test_render_a_new_value_each_time(runner):
    value = f"call-{next(_calls)}"
    assert runner.invoke(commands.render, "[{}]", value) == f"[{value}]\n"
