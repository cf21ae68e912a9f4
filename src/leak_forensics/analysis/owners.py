"""Who keeps leaked objects alive: the shortest reference path from a named root.

objgraph's ``find_backref_chain`` calls ``gc.get_referrers`` for every object it visits,
and each call scans the whole heap: minutes on a large process. Here the reverse
references are indexed once per analysis (one ``gc.get_referents`` per tracked object),
and each sampled object's breadth-first search reads the index.

A root is something a reader can find in their code: a module global
(``pkg.mod.NAME``), a class attribute (``pkg.mod.Class.attr``), a local of a live
thread's frame, or, when the search runs out, the last object reached (a closure's
function, or "held outside Python" when nothing the collector sees refers to it).
Edges read like code: ``['key']``, ``[3]``, ``.attr``, ``closure 'name'``.

The *suspect* edge is the one from the last object that existed before the leaking
runs to the first object they created (LeakCanary's underlined reference): whatever
was there before is an expected holder; the edge after it is where the leak begins.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import sys
import threading
import types
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..harness import is_harness_name, is_harness_type
from ..measure.census import type_name
from ..measure.stacks import getframe
from ..referents import referents, unsafe_module
from ..types import Frames
from . import patterns as patterns_

#: Objects searched per sampled object before giving up on finding a named root.
SEARCH_LIMIT = 100_000
_KEY_WIDTH = 24


@dataclass(frozen=True)
class Chain:
    """One sampled object's owner chain, rendered."""

    type: str
    root: str
    path: str  # the root, then each edge, then "-> Type"
    suspect: str | None  # the path up to the edge where the leak begins (None: unknown)
    pattern: str  # the path with keys and indexes normalised, for grouping
    suspect_pattern: str | None
    #: The object before the suspect edge (the container the leak grows in), for checking
    #: later tests against this leak without a new search; dropped once they are checked.
    holder: object | None = field(default=None, compare=False, repr=False)
    #: Why that holder never lets go, when it is a well-known pattern (``patterns``).
    why: str | None = None
    #: Found by the forward search (``untracked_leaks``): an object the collector does not
    #: track, held beside what the backward search found.
    untracked: bool = False

    @property
    def where(self) -> str:
        """Where the leak goes, as tests that leak into the same place share it."""
        return self.suspect_pattern or self.pattern


class _Heap:
    """The reverse-reference index of every object the collector tracks, and the roots."""

    def __init__(self, ignore: list[object], display: Callable[[str], str]) -> None:
        """``ignore``: containers of the caller's that hold what is searched for (this
        list too)."""
        frame: types.FrameType | None = getframe()
        ignored = {id(o) for o in ignore} | {id(ignore)}
        while frame is not None:  # this analysis's own frames hold the samples
            ignored.add(id(frame))
            frame = frame.f_back
        objects = gc.get_objects()
        ignored.add(id(objects))
        self.ignored = ignored
        # Untracked objects (strings, numbers, containers of only those) hold nothing
        # tracked, so they are never on a path: leaving them out halves the work.
        referrers: dict[int, list[object]] = {}
        add, tracked, held_by = referrers.setdefault, gc.is_tracked, gc.get_referents
        unsafe = unsafe_module()
        skipped = ignored if unsafe is None else ignored | {id(unsafe)}
        for holder in objects:
            if id(holder) not in skipped:
                for held in filter(tracked, held_by(holder)):
                    add(id(held), []).append(holder)
        if unsafe is not None:  # its namespace alone: see ``referents``
            add(id(vars(unsafe)), []).append(unsafe)
        self.referrers = referrers
        del objects
        # sys.modules may hold anything (a dead weak proxy raises on isinstance, which
        # asks for its __class__)
        modules = [(name, m) for name, m in sys.modules.copy().items()
                   if issubclass(type(m), types.ModuleType)]
        self.module_dicts = {id(m.__dict__): name for name, m in modules
                             if not is_harness_name(name)}
        # The harness's globals are no owner a reader could act on (pytest keeps the
        # running item in ``_pytest.assertion.util._reprcompare``'s closure while a test
        # runs): a path through them is a dead end, and the search goes on by the others.
        self.harness_dicts = {id(m.__dict__) for name, m in modules if is_harness_name(name)}
        # A running frame's locals belong to its thread's stack, which the collector does
        # not traverse: each other thread's frames are added as holders of their locals.
        self.thread_frames: dict[int, str] = {}
        names = {t.ident: t.name for t in threading.enumerate()}
        here = threading.get_ident()
        for ident, current in sys._current_frames().items():
            top: types.FrameType | None = current
            while top is not None and ident != here:
                self.thread_frames[id(top)] = (
                    f"thread {names.get(ident, ident)}, frame {top.f_code.co_name}() at "
                    f"{display(top.f_code.co_filename)}:{top.f_lineno}")
                for value in top.f_locals.values():
                    referrers.setdefault(id(value), []).append(top)
                top = top.f_back

    def holders(self, obj: object) -> list[object]:
        found = self.referrers.get(id(obj), [])
        if not found and isinstance(obj, dict) and sys.version_info >= (3, 13):
            owner = self._instance_of(obj)
            if owner is not None:
                found = self.referrers[id(obj)] = [owner]
        return found

    def _instance_of(self, attributes: dict[object, object]) -> object | None:
        """The object whose ``__dict__`` this is, on 3.13+.

        There an instance keeps its attribute values inline even once its ``__dict__``
        exists, and the collector visits the values, not the dict: nothing the collector
        sees refers to the dict, which would read as "held outside Python". The instance
        still refers to each value, so it is among the holders of any tracked value, and
        ``vars()`` tells which holder it is (a holder that has no dict yet gets one:
        only the few objects that hold the same values are asked).
        """
        for value in attributes.values():
            if not gc.is_tracked(value):
                continue
            for holder in self.referrers.get(id(value), ()):
                if (not isinstance(holder, type) and id(holder) not in self.ignored
                        and getattr(holder, "__dict__", None) is attributes):
                    return holder
            return None
        return None

    def root_name(self, holder: object, held: object) -> str | None:
        """The name of a root ``holder`` is (given the object it leads to), or None."""
        if id(holder) in self.module_dicts:
            return self.module_dicts[id(holder)]
        if id(holder) in self.thread_frames:
            return self.thread_frames[id(holder)]
        if isinstance(holder, type) and _is_class_dict(holder, held):
            return f"{holder.__module__}.{holder.__qualname__}"
        return None


def _is_class_dict(cls: type, candidate: object) -> bool:
    return isinstance(candidate, dict) and any(
        d is candidate for d in gc.get_referents(cls) if isinstance(d, dict))


def owner_chains(targets: Sequence[object], is_new: Callable[[object], bool],
                 display: Callable[[str], str] = str,
                 ignore: Sequence[object] = ()) -> list[Chain]:
    """The owner chain of each target, searched from the target towards the roots.

    ``is_new`` says whether an object was created by the leaking runs (for the suspect
    edge). ``display`` shortens file names. ``targets`` itself is no owner, nor are the
    callers' frames, nor the containers in ``ignore`` (the caller's own references).
    """
    heap = _Heap([targets, *ignore], display)
    try:
        return [_chain(heap, target, is_new) for target in targets]
    finally:
        heap.referrers.clear()


def _chain(heap: _Heap, target: object, is_new: Callable[[object], bool]) -> Chain:
    seen = {id(target)}
    child_of: dict[int, object] = {}  # holder id -> the object it leads to on the way
    queue = deque([target])
    tops: list[object] = []  # objects nothing (that the collector sees) refers to
    while queue and len(seen) < SEARCH_LIMIT:
        node = queue.popleft()
        holders = [h for h in heap.holders(node) if id(h) not in heap.ignored]
        if not holders:
            tops.append(node)
        holders = [h for h in holders if id(h) not in heap.harness_dicts]
        for holder in holders:
            if id(holder) in seen:
                continue
            seen.add(id(holder))
            child_of[id(holder)] = node
            name = heap.root_name(holder, node)
            if name is not None:
                return _render(name, _walk(holder, child_of), is_new, namespace=True)
            queue.append(holder)
    if not tops:
        return _render(f"no named root within {len(seen)} objects", [target], is_new)
    # A function that only C holds (a callback registered with an extension, atexit) is
    # named by its qualified name; other tops are anonymous.
    functions = [t for t in tops if isinstance(t, types.FunctionType)
                 and not is_harness_name(str(t.__module__))]
    if functions:
        held = functions[0]
        return _render(f"{held.__module__}.{held.__qualname__}", _walk(held, child_of), is_new)
    top = tops[0]
    if top is target:
        return _render("held outside Python", [target], is_new)
    return _render(f"held outside Python: {type_name(top)}", _walk(top, child_of), is_new)


#: Keys that are values (equal when their contents are), not objects with an identity.
_VALUES = (str, bytes, int, float, complex, bool, type(None))


def _is_value(key: object) -> bool:
    """A string, a number, or a tuple or frozenset of only those: a memo's argument."""
    if isinstance(key, (tuple, frozenset)):
        return all(_is_value(item) for item in key)
    return isinstance(key, _VALUES)


#: Objects with no referents that the collector never tracks: leaves of the search.
_ATOMS = frozenset({*_VALUES, bytearray})

#: Untracked objects kept per allocation site by the forward search.
UNTRACKED_PER_SITE = 5
#: Reached through a root, but not searched: the rest of the program (a module's dict,
#: a class's, a function's globals) is another root's, or no one's the reader wrote.
_NOT_SEARCHED = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
                 types.CodeType, types.FrameType, types.MethodType)


@dataclass
class Untracked:
    """Leaked objects the collector does not track, each with its way from a root."""

    #: (root name, nodes from the root's namespace down to the object, its site)
    found: list[tuple[str, list[object], str]] = field(default_factory=list)
    #: Objects of those paths the runs created (for the suspect edge).
    new: set[int] = field(default_factory=set)
    #: How many such objects each site made (all of them, not only those kept).
    counts: dict[str, int] = field(default_factory=dict)

    def recurring(self, runs: int) -> Untracked:
        """Only what sites that left an object alive per traced run made: a counter each
        run replaces (``cls_counter += 1``) leaves one new int in all, not a leak."""
        kept = {site: n for site, n in self.counts.items() if n >= runs}
        return Untracked([found for found in self.found if found[2] in kept], self.new, kept)


def untracked_leaks(roots: Sequence[tuple[str, dict[str, object]]],
                    new_tracked: set[int], site_of: Callable[[object], str | None],
                    limit: int = SEARCH_LIMIT) -> Untracked:
    """Strings, bytes, numbers and containers of only those that the runs made and a
    root still reaches (tracing must be on).

    The collector does not track them, so the reverse index cannot lead from them to a
    root; but ``gc.get_referents`` returns them, so a forward search from the roots
    (the code under test's module globals and class attributes) finds them, with
    ``site_of`` (their allocation site, None when they existed before tracing) telling
    the leaked ones. Only the outermost new object of each is kept: what sits inside a
    new container belongs to that container's own chain.
    """
    result = Untracked()
    skip = {id(m.__dict__) for m in sys.modules.copy().values()
            if issubclass(type(m), types.ModuleType)}
    seen: set[int] = set()
    # The harness's objects are not searched: a user module's ``__loader__`` is pytest's
    # rewriter, whose config leads to every plugin, this toolkit's memory of known leaks
    # included, which would be named as the holder of what it only watches.
    harness_types: dict[type, bool] = {}

    def keep(child: object, site: str, parent: object, name: str, namespace: object,
             parent_of: dict[int, object]) -> None:
        result.counts[site] = result.counts.get(site, 0) + 1
        if result.counts[site] <= UNTRACKED_PER_SITE:
            nodes = [child, parent]
            while nodes[-1] is not namespace:
                nodes.append(parent_of[id(nodes[-1])])
            result.found.append((name, nodes[::-1], site))

    for name, namespace in roots:
        if id(namespace) in seen:
            continue
        seen.add(id(namespace))
        parent_of: dict[int, object] = {}
        queue = deque([namespace])
        while queue and len(seen) < limit:
            node = queue.popleft()
            node_key = id(node)
            node_is_new = node_key in new_tracked or node_key in result.new
            children = referents(node)
            # (types only: a dead weak proxy raises on isinstance)
            if issubclass(type(node), dict):  # a dict of string keys does not visit them
                children += dict.keys(node)
            for child in children:
                if type(child) in _ATOMS:
                    # No referents, so never queued; and most are old: asked for their
                    # site first, which allocates nothing for an old one (under tracing,
                    # every int or set entry made costs a traceback).
                    site = site_of(child)
                    if site is not None and id(child) not in result.new:
                        result.new.add(id(child))
                        if not node_is_new:
                            keep(child, site, node, name, namespace, parent_of)
                    continue
                key, kind = id(child), type(child)
                if key in seen or key in skip or issubclass(kind, _NOT_SEARCHED):
                    continue
                harness = harness_types.get(kind)
                if harness is None:
                    harness = harness_types[kind] = is_harness_type(kind)
                if harness:
                    continue
                seen.add(key)
                parent_of[key] = node
                queue.append(child)
                if gc.is_tracked(child):
                    continue
                site = site_of(child)
                if site is None:
                    continue
                result.new.add(key)
                if not node_is_new:
                    keep(child, site, node, name, namespace, parent_of)
    return result


def untracked_chains(untracked: Untracked, new_tracked: set[int]) -> list[Chain]:
    """The chains of ``untracked_leaks``. A tuple or frozenset on a path is new: it cannot
    have gained the new object it leads to, so it was made with it (its own allocation
    site may be a free-list block's older one, which says nothing)."""
    def is_new(obj: object) -> bool:
        return (id(obj) in new_tracked or id(obj) in untracked.new
                or type(obj) in (tuple, frozenset))
    return [dataclasses.replace(_render(name, nodes, is_new, namespace=True), untracked=True)
            for name, nodes, _ in untracked.found]


def _walk(start: object, child_of: dict[int, object]) -> list[object]:
    """From a holder down to the target, following the search's links."""
    nodes = [start]
    while id(nodes[-1]) in child_of:
        nodes.append(child_of[id(nodes[-1])])
    return nodes


def _render(root: str, nodes: list[object], is_new: Callable[[object], bool],
            namespace: bool = False) -> Chain:
    """``nodes`` runs from the root object (or the top one reached) to the target. With
    ``namespace``, ``nodes[0]`` is a module's dict, a class or a thread's frame, and its
    first edge completes the root's name (``pkg.mod`` + ``.NAME``)."""
    texts: list[str] = []
    patterns: list[str] = []
    suspect_at: int | None = None
    holder: object | None = None
    parent: object | None = None
    key_is_new = key_is_value = False
    i = 0
    while i + 1 < len(nodes):
        text, pattern, used = _edge(nodes, i, namespace and i == 0)
        if suspect_at is None and not is_new(nodes[i]) and is_new(nodes[i + used]):
            suspect_at = len(texts)
            at = i + used - 1
            holder = nodes[at]
            parent = _owner_of(nodes, at)
            key = _key_of(holder, nodes[at + 1])
            key_is_new = key is not None and is_new(key)
            key_is_value = _is_value(key)
        texts.append(text)
        patterns.append(pattern)
        i += used
    if namespace and texts:
        root += texts.pop(0)
        patterns.pop(0)
        suspect_at = None if suspect_at is None else max(suspect_at - 1, -1)
    target = nodes[-1]
    short = type(target).__name__
    end = None if suspect_at is None else suspect_at + 1
    return Chain(type_name(target), root, f"{root}{''.join(texts)} -> {short}",
                 None if end is None else root + "".join(texts[:end]),
                 f"{root}{''.join(patterns)} -> {short}",
                 None if end is None else root + "".join(patterns[:end]), holder,
                 None if holder is None else patterns_.explain(
                     parent, holder, root, f"{root}{''.join(texts)}", key_is_new,
                     key_is_value))


def _owner_of(nodes: list[object], at: int) -> object | None:
    """The object on the chain that holds ``nodes[at]``, looking through an instance's
    ``__dict__`` to the instance."""
    if at < 1:
        return None
    parent = nodes[at - 1]
    if at >= 2 and isinstance(parent, dict) and getattr(nodes[at - 2], "__dict__", None) is parent:
        return nodes[at - 2]
    return parent


def _edge(nodes: list[object], i: int, namespace: bool) -> tuple[str, str, int]:
    """How ``nodes[i]`` refers to ``nodes[i+1]``: (text, normalised text, nodes used)."""
    holder, held = nodes[i], nodes[i + 1]
    after = nodes[i + 2] if i + 2 < len(nodes) else None
    if isinstance(holder, type):  # a class, through its __dict__
        name = _key_of(held, after) if after is not None else None
        if isinstance(name, str):
            return f".{name}", f".{name}", 2
        return ".__dict__", ".__dict__", 1
    if isinstance(holder, types.FrameType):
        for name, value in holder.f_locals.items():
            if value is held:
                return f", local '{name}'", f", local '{name}'", 1
        return ", its frame", ", its frame", 1
    if isinstance(holder, dict):
        key = _key_of(holder, held)
        if namespace and isinstance(key, str):
            return f".{key}", f".{key}", 1
        if key is not None:
            return f"[{_short(key)}]", "[...]", 1
        return " (a key)", " (a key)", 1
    if isinstance(holder, (list, tuple)):  # by position, without calling a subclass's code
        items = list.__iter__(holder) if isinstance(holder, list) else tuple.__iter__(holder)
        for index, value in enumerate(items):
            if value is held:
                return f"[{index}]", "[...]", 1
    if isinstance(holder, (set, frozenset)):
        return " (in a set)", " (in a set)", 1
    if isinstance(holder, types.CellType):
        return ".cell_contents", ".cell_contents", 1
    if isinstance(holder, types.FunctionType):
        closure = holder.__closure__ or ()
        if held is closure and i + 3 < len(nodes):
            for name, cell in zip(holder.__code__.co_freevars, closure, strict=False):
                if cell is after:
                    return f" closure '{name}'", f" closure '{name}'", 3
        for attribute in ("__closure__", "__defaults__", "__kwdefaults__", "__dict__",
                          "__globals__"):
            if getattr(holder, attribute, None) is held:
                return f".{attribute}", f".{attribute}", 1
    if isinstance(holder, types.MethodType):
        name = "__self__" if holder.__self__ is held else "__func__"
        return f".{name}", f".{name}", 1
    # An instance: its attributes, in its __dict__ (or inline values) or in slots.
    for name, value in _attributes(holder).items():
        if value is held:
            return f".{name}", f".{name}", 1
    if after is not None and held is getattr(holder, "__dict__", None):
        key = _key_of(held, after)
        if isinstance(key, str):
            return f".{key}", f".{key}", 2
    return f" -> {type(held).__name__}", f" -> {type(held).__name__}", 1


def _attributes(obj: object) -> dict[str, object]:
    found: dict[str, object] = {}
    with contextlib.suppress(TypeError):  # no __dict__
        found.update(vars(obj))
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            try:
                found[name] = getattr(obj, name)
            except AttributeError:
                continue
    return found


def _key_of(mapping: object, value: object) -> object | None:
    if not isinstance(mapping, dict):
        return None
    for key, held in dict.items(mapping):  # not a subclass's own items()
        if held is value:
            found: object = key
            return found
    for key in dict.keys(mapping):
        if key is value:
            return key
    return None


def _short(key: object) -> str:
    """A dict key as code would write it, abbreviated; a key whose own ``__repr__`` fails
    is shown by its type."""
    try:
        text = repr(key)
    except Exception:
        text = f"<{type(key).__name__}>"
    return text if len(text) <= _KEY_WIDTH else text[: _KEY_WIDTH - 3] + "..."


def creation_traceback(obj: object) -> Frames | None:
    """Where ``obj`` was allocated, innermost frame first (tracing must be on).

    Python 3.11 cannot look up instances of ordinary classes (their memory starts before
    the object's address), so for those the traceback of an attribute value created
    inside one of the class's own methods stands in, with the method's frames dropped:
    what remains starts at the line that constructed the object.
    """
    import tracemalloc
    found = tracemalloc.get_object_traceback(obj)
    if found is not None:
        return tuple((f.filename, f.lineno) for f in reversed(found))
    methods = _method_lines(type(obj))
    for part in referents(obj):
        if isinstance(part, type):
            continue
        found = tracemalloc.get_object_traceback(part)
        if found is None:
            continue
        frames = [(f.filename, f.lineno) for f in reversed(found)]
        inside = 0
        while inside < len(frames) and any(
                frames[inside][0] == file and first <= frames[inside][1] <= last
                for file, first, last in methods):
            inside += 1
        if 0 < inside < len(frames):
            return tuple(frames[inside:])
    return None


def _method_lines(cls: type) -> list[tuple[str, int, int]]:
    """(file, first line, last line) of each function defined in ``cls`` and its bases."""
    spans = []
    for klass in cls.__mro__[:-1]:
        for value in vars(klass).values():
            code = getattr(getattr(value, "__func__", value), "__code__", None)
            if isinstance(code, types.CodeType):
                lines = [line for _, _, line in code.co_lines() if line is not None]
                spans.append((code.co_filename, code.co_firstlineno,
                              max(lines, default=code.co_firstlineno)))
    return spans
