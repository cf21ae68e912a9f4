"""Owner chains grouped per normalised path, and tests grouped per holder."""

from leak_forensics.analysis.owners import Chain
from leak_forensics.analysis.signatures import group_owners, leak_groups, signature
from leak_forensics.results import Site, TestResult, Verdict


def chain(key: str, kind: str = "list", root: str = "app._MEMO") -> Chain:
    return Chain(type=kind, root=root, path=f"{root}[{key}] -> {kind}",
                 suspect=f"{root}[{key}]", pattern=f"{root}[...] -> {kind}",
                 suspect_pattern=f"{root}[...]")


def outside(kind: str) -> Chain:
    return Chain(type=kind, root="held outside Python", path=f"held outside Python -> {kind}",
                 suspect=None, pattern=f"held outside Python -> {kind}", suspect_pattern=None)


def test_chains_that_differ_only_in_keys_are_one_owner():
    owners = group_owners([chain("'a'"), chain("'b'"), chain("1", "dict")],
                          ["app.py:3", "app.py:3", None])
    assert [(o.type, o.sampled, o.of, o.site) for o in owners] == [
        ("list", 2, 2, "app.py:3"), ("dict", 1, 1, None)]
    assert len(owners[0].signature) == 16


def test_a_leak_is_its_holder_not_its_types():
    owners = group_owners([chain("'a'"), chain("1", "dict"), chain("2", "dict", "app._OTHER")],
                          ["app.py:3", "app.py:4", "app.py:4"])
    by_root = {(o.root, o.type): o.signature for o in owners}
    assert by_root[("app._MEMO", "list")] == by_root[("app._MEMO", "dict")]
    assert by_root[("app._OTHER", "dict")] != by_root[("app._MEMO", "dict")]
    assert by_root[("app._MEMO", "dict")] == signature(chain("'zzz'", "set"), None)


def test_without_a_holder_the_type_and_site_tell_leaks_apart():
    assert signature(outside("dict"), "a.py:1") != signature(outside("list"), "a.py:1")
    assert signature(outside("dict"), "a.py:1") != signature(outside("dict"), "a.py:2")


def test_what_only_c_holds_and_weak_references_join_the_one_holder_of_a_test():
    owners = group_owners([chain("'a'"), outside("encodings.utf_8.IncrementalDecoder"),
                           Chain("weakref.ReferenceType", "collections.abc.Mapping",
                                 "collections.abc.Mapping._abc_impl -> set -> ReferenceType",
                                 None, "collections.abc.Mapping._abc_impl -> set -> "
                                 "ReferenceType", None)],
                          ["app.py:3", None, None])
    assert len({o.signature for o in owners}) == 1
    assert {o.where for o in owners} == {"app._MEMO[...]"}
    # The concrete paths stay as found.
    assert any(o.path.startswith("held outside Python") for o in owners)


def test_with_two_holders_nothing_is_guessed():
    owners = group_owners([chain("'a'"), chain("'b'", root="app._OTHER"),
                           outside("encodings.utf_8.IncrementalDecoder")],
                          ["app.py:3", "app.py:5", None])
    assert len({o.signature for o in owners}) == 3


def test_tests_leaking_into_one_place_share_a_group():
    owners = group_owners([chain("'a'"), chain("'b'", "dict")], ["app.py:3", "app.py:4"])
    sites = [Site("app.py", 3, 100, 1), Site("app.py", 4, 50, 1), Site("app.py", 9, 7, 1)]
    results = [TestResult("t.py::one", Verdict.LEAK, owners=owners, sites=sites),
               TestResult("t.py::two", Verdict.LEAK, owners=owners + owners, sites=sites),
               TestResult("t.py::known", Verdict.KNOWN, owners=owners)]
    (group,) = leak_groups(results)
    assert group.tests == ("t.py::one", "t.py::two")
    data = group.to_json()
    assert data["where"] == "app._MEMO[...]"
    assert data["types"] == ["dict", "list"] or data["types"] == ["list", "dict"]
    # The owners' sites first, then the other sites every one of its tests grows at.
    assert data["sites"] == ["app.py:3", "app.py:4", "app.py:9"]
    assert data["bytes_per_run"] == 2 * (100 + 50 + 7)


def test_a_test_that_also_grows_at_sites_of_its_own_has_a_second_leak():
    owners = group_owners([chain("'a'")], ["helper.py:3"])
    shared = [Site("helper.py", 3, 100, 1), Site("helper.py", 5, 40, 1)]
    results = [TestResult(f"t.py::test_{i}", Verdict.LEAK, owners=owners, sites=shared)
               for i in range(3)]
    results.append(TestResult("t.py::test_history", Verdict.LEAK, owners=owners,
                              sites=[*shared, Site("app.py", 22, 90, 1)]))
    holder, extra = leak_groups(results)
    assert holder.tests == tuple(r.nodeid for r in results)
    assert holder.sites == ("helper.py:3", "helper.py:5")
    assert extra.tests == ("t.py::test_history",)
    assert extra.where == "allocated at app.py:22"
    assert extra.root.startswith("no holder found")
    assert extra.bytes_per_run == 90


def test_a_leak_without_a_holder_is_named_by_its_large_sites_or_else_all():
    small = TestResult("t.py::test_small", Verdict.LEAK,
                       sites=[Site("app.py", 28, 57, 1), Site("t.py", 47, 55, 1)])
    large = TestResult("t.py::test_large", Verdict.LEAK,
                       sites=[Site("app.py", 30, 400, 1), Site("t.py", 50, 20, 1)])
    wheres = {g.tests[0]: g.where for g in leak_groups([small, large])}
    assert wheres == {"t.py::test_small": "allocated at app.py:28, t.py:47",
                      "t.py::test_large": "allocated at app.py:30"}
