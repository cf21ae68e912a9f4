"""Owner chains grouped per normalised path, and tests grouped per signature."""

from leak_forensics.analysis.owners import Chain
from leak_forensics.analysis.signatures import group_owners, leak_groups, signature
from leak_forensics.results import TestResult, Verdict


def chain(key: str, kind: str = "list") -> Chain:
    return Chain(type=kind, root="app._MEMO", path=f"app._MEMO[{key}] -> {kind}",
                 suspect=f"app._MEMO[{key}]", pattern=f"app._MEMO[...] -> {kind}",
                 suspect_pattern="app._MEMO[...]")


def test_chains_that_differ_only_in_keys_are_one_owner():
    owners = group_owners([chain("'a'"), chain("'b'"), chain("1", "dict")],
                          ["app.py:3", "app.py:3", None])
    assert [(o.type, o.sampled, o.of, o.site) for o in owners] == [
        ("list", 2, 2, "app.py:3"), ("dict", 1, 1, None)]
    assert owners[0].signature == signature(chain("'zzz'"), "app.py:3")
    assert owners[0].signature != owners[1].signature
    assert len(owners[0].signature) == 16


def test_tests_leaking_into_one_place_share_a_group():
    owner = group_owners([chain("'a'")], ["app.py:3"])[0]
    results = [TestResult("t.py::one", Verdict.LEAK, owners=[owner]),
               TestResult("t.py::two", Verdict.LEAK, owners=[owner, owner]),
               TestResult("t.py::known", Verdict.KNOWN, owners=[owner])]
    (group,) = leak_groups(results)
    assert group.tests == ("t.py::one", "t.py::two")
    assert group.to_json()["where"] == "app._MEMO[...]"
