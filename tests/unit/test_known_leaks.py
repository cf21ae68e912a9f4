"""Allowlist rules: a leak is known only when rules cover it whole."""

import pytest

from leak_forensics.analysis.known_leaks import BUILT_IN, match, parse_rule
from leak_forensics.errors import ConfigError
from leak_forensics.results import Owner, Resource, Site, TestResult, TypeGrowth, Verdict


def leak(**parts) -> TestResult:
    return TestResult("t.py::test", Verdict.LEAK, **parts)


def owner(root: str, path: str) -> Owner:
    return Owner("dict", root, path, None, path, 1, 1, None, "0" * 16)


def test_parse_rule_and_errors():
    rule = parse_rule(" root:myapp.metrics.* ")
    assert (rule.kind, rule.pattern) == ("root", "myapp.metrics.*")
    assert str(rule) == "root:myapp.metrics.*"
    for bad in ("myapp.*", "colour:red", "site:", " :x"):
        with pytest.raises(ConfigError, match="KIND:GLOB"):
            parse_rule(bad)


def test_every_site_must_be_covered():
    sites = [Site("app/a.py", 3, 100, 1), Site("app/b.py", 9, 50, 1)]
    assert match(leak(sites=sites), [parse_rule("site:app/a.py:*")]) is None
    rule = parse_rule("site:app/*.py:*")
    assert match(leak(sites=sites), [rule]) == rule


def test_types_or_owners_cover_memory_and_resources_need_their_own_rule():
    result = leak(types=[TypeGrowth("myapp.audit.Event", 3)],
                  resources=[Resource("thread", "poller (poll) still alive")])
    assert match(result, [parse_rule("type:myapp.audit.*")]) is None
    both = [parse_rule("type:myapp.audit.*"), parse_rule("resource:thread poller*")]
    assert match(result, both) == both[0]


def test_owner_rules_match_root_where_or_path():
    result = leak(owners=[owner("myapp.metrics.COUNTS", "myapp.metrics.COUNTS['k'] -> dict")])
    assert match(result, [parse_rule("root:myapp.metrics.*")]) is not None
    assert match(result, [parse_rule("root:other.*")]) is None


def test_built_in_rules_know_sqlalchemy_statement_cache():
    result = leak(owners=[owner("app.ENGINE", "app.ENGINE._compiled_cache._data['x'] -> dict")])
    rule = match(result, BUILT_IN)
    assert rule is not None and rule.source == "built-in" and rule.known().reason


def test_nothing_to_cover_is_not_known():
    assert match(leak(), [parse_rule("type:*")]) is None
