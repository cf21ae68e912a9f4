"""Owner chains joined with allocation sites, grouped, and fingerprinted.

A *signature* names where a leak goes, not which test caused it nor what piles up there:
a leak is its holder. Where the edge at which the leak begins is known, the signature is
the root and the normalised path up to that edge, so every type that piles up in one
container (a stream, its wrapper, their encoders, the weak reference keying them) is one
leak. Without that edge it is the whole normalised path, the type and the allocating
line. Tests with the same signature leak into the same place, and a later run can tell
a known leak from a new one by it.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from ..results import LeakGroup, Owner, Site, TestResult, Verdict
from .owners import Chain

#: Types whose objects point *at* leaked objects without keeping them alive: a weak
#: reference found beside a leak (say, in an ABC's cache of checked subclasses or
#: instances) belongs to the leak it refers to.
WEAK_REFERENCE_TYPES = frozenset({"weakref.ReferenceType", "weakref.KeyedRef",
                                  "weakref.WeakMethod", "weakref", "KeyedRef"})
#: Roots that name no holder: the objects were reached only through C (an extension
#: type's field the collector does not visit) or not reached at all.
ANONYMOUS_ROOTS = ("held outside Python", "no named root")


def signature(chain: Chain, site: str | None) -> str:
    if chain.suspect_pattern is not None:
        return _digest(chain.root, chain.suspect_pattern)
    return _digest(chain.root, chain.where, chain.type, site or "")


def _digest(*parts: str) -> str:
    text = "\0".join(parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def group_owners(chains: Sequence[Chain], sites: Sequence[str | None]) -> list[Owner]:
    """One entry per distinct (type, normalised chain): how many of that type's sampled
    objects it holds, one concrete path, the suspect edge and the usual allocation site.

    When one test's objects all go into one named holder, what else its sample found
    there is part of that leak and shares its signature: objects reached only through C
    (a wrapper's decoder, which the collector does not visit) and weak references to the
    leaked objects.
    """
    sampled = Counter(c.type for c in chains)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, chain in enumerate(chains):
        groups[(chain.type, chain.pattern)].append(i)
    entries = []
    tracked: list[Owner] = []
    for members in groups.values():
        first = chains[members[0]]
        known = Counter(site for i in members if (site := sites[i]) is not None)
        site = known.most_common(1)[0][0] if known else None
        entries.append(Owner(
            type=first.type, root=first.root, path=first.path, suspect=first.suspect,
            where=first.where, sampled=len(members), of=sampled[first.type], site=site,
            signature=signature(first, site),
            why=next((w for i in members if (w := chains[i].why) is not None), None)))
        if not first.untracked:
            tracked.append(entries[-1])
    entries = _fold_into_the_holder(entries, tracked)
    entries.sort(key=lambda e: (-e.sampled, e.type))
    return entries


def _named_holder(owner: Owner) -> bool:
    return owner.suspect is not None and not owner.root.startswith(ANONYMOUS_ROOTS)


def _fold_into_the_holder(entries: list[Owner], tracked: Sequence[Owner]) -> list[Owner]:
    """``tracked``: the entries of objects the collector tracks. Strings or numbers found
    in another holder are a leak of their own there; they do not make the objects only
    C holds (which are tracked objects' parts) any less this holder's."""
    holders = {(o.signature, o.where) for o in tracked if _named_holder(o)}
    if len(holders) != 1:
        return entries
    ((key, where),) = holders
    folded = []
    for owner in entries:
        if not _named_holder(owner) and (owner.root.startswith(ANONYMOUS_ROOTS)
                                         or owner.type in WEAK_REFERENCE_TYPES):
            owner = Owner(owner.type, owner.root, owner.path, owner.suspect, where,
                          owner.sampled, owner.of, owner.site, key, owner.why)
        folded.append(owner)
    return folded


#: Why the objects a leaked thread keeps alive are not a leak of their own.
HELD_BY_A_THREAD = ("a thread the test started is still running, and keeps these alive "
                    "(its frames' locals, its target, threading's records of it): they go "
                    "when it ends")
#: Where threading itself keeps a record of every live thread.
_THREADING_RECORDS = ("threading._dangling", "threading._active", "threading._limbo",
                      "threading._shutdown_locks")


def fold_into_threads(owners: Sequence[Owner], threads: Sequence[tuple[str, str]]
                      ) -> list[Owner]:
    """Objects that leaked threads keep alive belong to the thread leak: one leak.

    ``threads``: (name, description) of each thread the test left running. A stuck thread
    otherwise reads as a dozen leaks (each frame's locals, its target's closure, the
    weak reference threading keeps to it, its bootstrap method that only C holds). The
    signature is the thread's description with numbers taken out (``Thread-7`` is
    ``Thread-N`` in the next run), so every test that leaves the same thread behind
    shares it.
    """
    if not threads:
        return list(owners)
    prefixes = tuple(f"thread {name}, " for name, _ in threads)
    description = threads[0][1]
    key = _digest("thread", re.sub(r"\d+", "N", description))
    where = "thread " + description.removesuffix(", still alive")
    folded = []
    for owner in owners:
        if (owner.root.startswith(prefixes) or owner.root in _THREADING_RECORDS
                or owner.root.startswith(ANONYMOUS_ROOTS)
                or owner.type in WEAK_REFERENCE_TYPES):
            owner = Owner(owner.type, owner.root, owner.path, owner.suspect, where,
                          owner.sampled, owner.of, owner.site, key, HELD_BY_A_THREAD)
        folded.append(owner)
    return folded


def leak_groups(results: Sequence[TestResult]) -> list[LeakGroup]:
    """Leaks, most tests first: leaking tests grouped by where their leaks go (owner
    signatures), each group with the types and allocation sites that belong to it.

    A holder's sites are those every one of its tests has (plus its owners' own). A test
    that also grows at sites of its own (strings or numbers kept somewhere, which have no
    owner chain) has a second leak there: one group per such set of sites.
    """
    named: dict[str, Owner] = {}
    members: dict[str, list[TestResult]] = {}
    types: dict[str, list[str]] = defaultdict(list)
    for result in results:
        if result.verdict != Verdict.LEAK:
            continue
        for owner in result.owners:
            key = owner.signature
            if key not in named or (_named_holder(owner) and not _named_holder(named[key])):
                named[key] = owner
            tests = members.setdefault(key, [])
            if result not in tests:
                tests.append(result)
            if owner.type not in types[key]:
                types[key].append(owner.type)
    places: dict[str, list[str]] = {}
    # Most tests first: a site a larger group's tests all share is that leak's, not
    # also the place of a smaller leak one of those tests has beside it.
    for key, tests in sorted(members.items(), key=lambda kv: -len(kv[1])):
        common = set.intersection(*({_place(s) for s in r.sites} for r in tests))
        own = [o.site for r in tests for o in r.owners if o.signature == key and o.site]
        mine = {id(r) for r in tests}
        claimed = {p for other, found in places.items()
                   if mine <= {id(r) for r in members[other]} for p in found}
        places[key] = sorted((common - claimed) | set(own), key=lambda p: (p not in own, p))
    whys: dict[str, str] = {}
    for result in results:
        for owner in result.owners:
            if owner.why is not None:
                whys.setdefault(owner.signature, owner.why)
    groups = [_group(key, named[key].root, named[key].where, named[key].type,
                     members[key], types[key], places[key], whys.get(key)) for key in named]
    leftovers: dict[tuple[str, ...], list[TestResult]] = {}
    for result in results:
        if result.verdict != Verdict.LEAK:
            continue
        covered = {p for o in result.owners for p in places.get(o.signature, ())}
        rest = _key_sites([s for s in result.sites if _place(s) not in covered])
        if rest:
            leftovers.setdefault(rest, []).append(result)
    for rest, tests in leftovers.items():
        groups.append(_group(_digest("sites", *rest), NO_HOLDER, "allocated at " + ", ".join(rest),
                             "", tests, [], list(rest)))
    return sorted(groups, key=lambda g: -len(g.tests))


#: The root of a leak found at allocation sites whose objects no owner search reached.
NO_HOLDER = "no holder found (objects the collector does not track: strings, numbers)"


#: Sites smaller than this per run name a leak without a holder only when it has no
#: larger one: the trace of a small object can move between two runs (a float reused
#: from a free list keeps the trace of the block it reuses).
KEY_SITE_BYTES = 64


def _key_sites(sites: Sequence[Site]) -> tuple[str, ...]:
    large = [s for s in sites if s.size_diff >= KEY_SITE_BYTES]
    return tuple(sorted(_place(s) for s in (large or sites)))


def _place(site: Site) -> str:
    return f"{site.filename}:{site.lineno}"


def _group(key: str, root: str, where: str, kind: str, tests: Sequence[TestResult],
           types: Sequence[str], sites: Sequence[str], why: str | None = None) -> LeakGroup:
    bytes_at: Counter[str] = Counter()
    for result in tests:
        for site in result.sites:
            if _place(site) in sites:
                bytes_at[_place(site)] += site.size_diff
    ordered = sorted(sites, key=lambda p: -bytes_at[p])  # stable: owners' sites first
    return LeakGroup(key, root, where, kind, ordered[0] if ordered else None,
                     tuple(r.nodeid for r in tests), tuple(types), tuple(ordered),
                     sum(bytes_at.values()), why)
