"""Owner chains joined with allocation sites, grouped, and fingerprinted.

A *signature* names where a leak goes, not which test caused it: the root, the path up
to the suspect edge with keys and indexes normalised, the leaked type and the line that
allocates it. Tests with the same signature leak into the same place, and a later run
can tell a known leak from a new one by it.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence

from .owners import Chain
from .results import LEAK, TestResult


def signature(chain: Chain, site: str | None) -> str:
    text = "\0".join((chain.root, chain.where, chain.type, site or ""))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def group_owners(chains: Sequence[Chain], sites: Sequence[str | None]) -> list[dict[str, object]]:
    """One entry per distinct (type, normalised chain): how many of that type's sampled
    objects it holds, one concrete path, the suspect edge and the usual allocation site."""
    sampled = Counter(c.type for c in chains)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, chain in enumerate(chains):
        groups[(chain.type, chain.pattern)].append(i)
    entries = []
    for members in groups.values():
        first = chains[members[0]]
        known = Counter(sites[i] for i in members if sites[i] is not None)
        site = known.most_common(1)[0][0] if known else None
        entries.append({
            "type": first.type, "root": first.root, "path": first.path,
            "suspect": first.suspect, "where": first.where,
            "sampled": len(members), "of": sampled[first.type], "site": site,
            "signature": signature(first, site)})
    entries.sort(key=lambda e: (-int(e["sampled"]), str(e["type"])))  # type: ignore[call-overload]
    return entries


def leak_groups(results: Sequence[TestResult]) -> list[dict[str, object]]:
    """Leaking tests grouped by where their leaks go (owner signatures), largest first."""
    groups: dict[str, dict[str, object]] = {}
    for result in results:
        if result.verdict != LEAK:
            continue
        for owner in result.owners:
            key = str(owner.get("signature"))
            group = groups.setdefault(key, {
                "signature": key, "root": owner.get("root"), "where": owner.get("where"),
                "type": owner.get("type"), "site": owner.get("site"), "tests": []})
            tests = group["tests"]
            assert isinstance(tests, list)
            if result.nodeid not in tests:
                tests.append(result.nodeid)
    return sorted(groups.values(), key=lambda g: -len(g["tests"]))  # type: ignore[arg-type]
