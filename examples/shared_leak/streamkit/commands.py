"""The library's commands. Two keep something per call of their own, by mistake."""

import functools
from typing import TextIO

_HISTORY: list[str] = []


def greet(name: str, *, out: TextIO) -> None:
    out.write(f"Hello, {name}!\n")


def shout(text: str, *, out: TextIO) -> None:
    out.write(text.upper() + "\n")


def add(a: str, b: str, *, out: TextIO) -> None:
    out.write(f"{int(a) + int(b)}\n")


def remember(entry: str, *, out: TextIO) -> None:
    _HISTORY.append(entry * 4)  # the history is never trimmed
    out.write(f"{len(_HISTORY)} entries\n")


@functools.lru_cache(maxsize=None)
def _render(template: str, value: str) -> str:
    return template.replace("{}", value)


def render(template: str, value: str, *, out: TextIO) -> None:
    out.write(_render(template, value) + "\n")
