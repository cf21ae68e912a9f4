"""User-facing values parsed once, with one-line errors."""

import pytest

from leak_forensics.cleanup.steps import OPT_IN, STEPS
from leak_forensics.errors import ConfigError
from leak_forensics.settings import (
    MarkerOverrides,
    Repeat,
    Settings,
    parse_bool,
    parse_budget,
    parse_int,
    parse_repeat,
    parse_steps,
)
from leak_forensics.units import parse_size, size_text


@pytest.mark.parametrize(("text", "message"), [
    ("abc", "W:N"), ("0:3", ">= 1"), ("1:1", ">= 2"), ("50:60", "at most 100")])
def test_bad_repeat(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_repeat(text)


def test_values():
    assert parse_repeat(" 2:4 ") == Repeat(2, 4) and str(Repeat(2, 4)) == "2:4"
    assert parse_int("x", "7", minimum=1) == 7
    assert parse_budget("x", "none") is None and parse_budget("x", "0.5") == 0.5
    assert parse_bool("x", "yes") is True and parse_bool("x", "") is False
    with pytest.raises(ConfigError, match="true or false"):
        parse_bool("--leak-forensics-fail", "bogus")


def test_cleanup_step_names_come_from_the_registry():
    skip, opt_in = parse_steps(["gc, stdlib", "stdlib-unsafe"])
    assert skip == {"gc", "stdlib"} and opt_in == {"stdlib-unsafe"}
    assert skip <= set(STEPS) and opt_in <= set(OPT_IN)
    with pytest.raises(ConfigError, match="unknown cleanup step 'gcc'.*bounded-caches"):
        parse_steps(["gcc"])


def test_marker_overrides():
    overrides = MarkerOverrides.parse((), {"repeat": "2:4", "fail": "true"})
    assert overrides.apply(Settings()) == Settings(repeat=Repeat(2, 4), fail=True)
    with pytest.raises(ConfigError, match="unknown argument"):
        MarkerOverrides.parse((), {"fial": True})
    with pytest.raises(ConfigError, match="keyword arguments only"):
        MarkerOverrides.parse(("2:4",), {})


def test_sizes_parse_and_print_alike():
    assert parse_size("4096") == 4096 and parse_size("512K") == 512 << 10
    assert parse_size("1.5 MiB") == 3 << 19
    # As users write them (pytest-memray's "24 MB"): every unit binary, any case.
    assert parse_size("10MB") == parse_size("10 mb") == parse_size("10M") == 10 << 20
    assert parse_size("512 KiB") == parse_size("512kb") == 512 << 10
    for bad in ("10 TB", "ten", "-5", "5 MBs", ""):
        with pytest.raises(ValueError, match="not a size"):
            parse_size(bad)
    assert size_text(1536) == "1.5 KiB" and size_text(-512, signed=True) == "-512 B"
