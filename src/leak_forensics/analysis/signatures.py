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

from ..results import LeakGroup, Owner, TestResult, Verdict
from .owners import Chain


def signature(chain: Chain, site: str | None) -> str:
    text = "\0".join((chain.root, chain.where, chain.type, site or ""))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def group_owners(chains: Sequence[Chain], sites: Sequence[str | None]) -> list[Owner]:
    """One entry per distinct (type, normalised chain): how many of that type's sampled
    objects it holds, one concrete path, the suspect edge and the usual allocation site."""
    sampled = Counter(c.type for c in chains)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, chain in enumerate(chains):
        groups[(chain.type, chain.pattern)].append(i)
    entries = []
    for members in groups.values():
        first = chains[members[0]]
        known = Counter(site for i in members if (site := sites[i]) is not None)
        site = known.most_common(1)[0][0] if known else None
        entries.append(Owner(
            type=first.type, root=first.root, path=first.path, suspect=first.suspect,
            where=first.where, sampled=len(members), of=sampled[first.type], site=site,
            signature=signature(first, site)))
    entries.sort(key=lambda e: (-e.sampled, e.type))
    return entries


def leak_groups(results: Sequence[TestResult]) -> list[LeakGroup]:
    """Leaking tests grouped by where their leaks go (owner signatures), most tests first."""
    first: dict[str, Owner] = {}
    tests: dict[str, list[str]] = {}
    for result in results:
        if result.verdict != Verdict.LEAK:
            continue
        for owner in result.owners:
            first.setdefault(owner.signature, owner)
            members = tests.setdefault(owner.signature, [])
            if result.nodeid not in members:
                members.append(result.nodeid)
    groups = [LeakGroup(key, o.root, o.where, o.type, o.site, tuple(tests[key]))
              for key, o in first.items()]
    return sorted(groups, key=lambda g: -len(g.tests))
