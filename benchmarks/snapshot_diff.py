"""Benchmark: `leak-forensics diff` against tracemalloc's pickles and compare_to.

Two pairs of snapshots of ~1.2 million live traces each are made once (cached in
benchmarks/.cache): "wide" has ~1 traceback per 3 blocks, 25 frames deep (compare_to's
costly case, the one the field notes time at 9-22 s), "narrow" has ~18 thousand
tracebacks of up to 10 frames. The newer snapshot of each pair frees 5% of the blocks
and allocates 5% more elsewhere.

For each key, two measures, medians of --rounds and their ratios:

- stages: load both + diff + print, the issue's "end to end", timed inside one process
  with every module already imported: the baseline loads both pickles, calls
  `Snapshot.compare_to` and prints the top 10; ours runs the `diff` command's own code
  (load, diff, print the tables). The 20x bound is checked on this one.
- command: the same in a fresh process each time (`python -c ...` against
  `python -m leak_forensics diff OLD NEW --key K`), so interpreter start and imports
  count too; tabulate's import alone is ~35 ms of ours.

The top 10 rows of both are also compared, number for number. Then file sizes, and load
times (ours decodes every column, the pickle unpickles).

    python benchmarks/snapshot_diff.py [--rounds 3] [--shape wide|narrow]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

# Bump the revision when the snapshot files' layout changes, so stale caches are remade.
CACHE = Path(__file__).parent / ".cache" / "snapshots-r2"
TARGET = 1_200_000
SHAPES = {  # name: (distinct call chains, longest chain, traceback limit)
    "wide": (400_000, 24, 25),
    "narrow": (20_000, 8, 10),
}

GENERATOR = textwrap.dedent('''\
    import random, sys, tracemalloc
    sys.path.insert(0, sys.argv[1])
    chains_wanted, longest, limit, target = map(int, sys.argv[2:6])
    source = ["FUNCS = []"]
    for i in range(300):
        source.append(f"""
    def g{i}(rest, n, out):
        if rest:
            return FUNCS[rest[0]](rest[1:], n, out)
        out.extend([bytes(8 + (j % 50)) for j in range(n)])
    FUNCS.append(g{i})""")
    with open(sys.argv[1] + "/synth.py", "w") as handle:
        handle.write("\\n".join(source))
    import synth
    rnd = random.Random(1)
    chains = [tuple(rnd.randrange(300) for _ in range(rnd.randint(1, longest)))
              for _ in range(chains_wanted)]
    per = max(target // chains_wanted, 1)
    out = []
    tracemalloc.start(limit)
    for chain in chains:
        synth.FUNCS[chain[0]](chain[1:], per, out)
    old = tracemalloc.take_snapshot()
    del out[: len(out) // 20]
    for chain in chains[: len(chains) // 20]:
        synth.FUNCS[chain[0]](chain[1:], per, out)
    new = tracemalloc.take_snapshot()
    tracemalloc.stop()
    from leak_forensics.snapshot.model import Snapshot
    for name, snap in (("old", old), ("new", new)):
        snap.dump(sys.argv[1] + f"/{name}.pickle")
        Snapshot.from_tracemalloc(snap).save(sys.argv[1] + f"/{name}.lfsnap")
    print(len(old.traces), len(new.traces))
''')

BASELINE = textwrap.dedent('''\
    import json, sys, tracemalloc
    old = tracemalloc.Snapshot.load(sys.argv[1])
    new = tracemalloc.Snapshot.load(sys.argv[2])
    stats = new.compare_to(old, sys.argv[3], sys.argv[4] == "1")
    for stat in stats[:10]:
        print(stat)
    if len(sys.argv) > 5:
        print(json.dumps([[[list(f) for f in reversed(s.traceback._frames)], s.size,
                           s.size_diff, s.count, s.count_diff] for s in stats[:10]]))
''')


STAGES = textwrap.dedent('''\
    import contextlib, io, statistics, sys, time, tracemalloc
    import tabulate  # noqa: F401  (imported up front, like everything else here)
    from leak_forensics import cli
    where, key, cumulative, rounds = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])

    def baseline():
        old = tracemalloc.Snapshot.load(where + "/old.pickle")
        new = tracemalloc.Snapshot.load(where + "/new.pickle")
        for stat in new.compare_to(old, key, cumulative)[:10]:
            print(stat)

    def ours():
        cli.main(["diff", where + "/old.lfsnap", where + "/new.lfsnap", "--key", key,
                  *(["--cumulative"] if cumulative else [])])

    times = {baseline: [], ours: []}
    for _ in range(rounds):
        for side in times:
            with contextlib.redirect_stdout(io.StringIO()):
                started = time.perf_counter()
                side()
                times[side].append(time.perf_counter() - started)
    print(statistics.median(times[baseline]), statistics.median(times[ours]))
''')


def prepare(shape: str) -> Path:
    where = CACHE / shape
    if (where / "new.lfsnap").exists() and (where / "new.pickle").exists():
        return where
    where.mkdir(parents=True, exist_ok=True)
    chains, longest, limit = SHAPES[shape]
    print(f"making the {shape} snapshots (once; about a minute)...", flush=True)
    done = subprocess.run([sys.executable, "-c", GENERATOR, str(where), str(chains),
                           str(longest), str(limit), str(TARGET)],
                          check=True, capture_output=True, text=True)
    print(f"  traces: {done.stdout.strip()}")
    return where


# Both sides run as an installed tool would: with bytecode caches (some environments set
# PYTHONDONTWRITEBYTECODE, which would recompile this package on every run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - started


def keyed(key: str) -> tuple[str, bool]:
    return key.removesuffix("+cumulative"), key.endswith("+cumulative")


def same_numbers(where: Path, key: str) -> bool:
    name, cumulative = keyed(key)
    theirs = subprocess.run([sys.executable, "-c", BASELINE, str(where / "old.pickle"),
                             str(where / "new.pickle"), name, str(int(cumulative)), "json"],
                            check=True, capture_output=True, text=True).stdout.splitlines()[-1]
    ours = json.loads(subprocess.run(
        [sys.executable, "-m", "leak_forensics", "diff", str(where / "old.lfsnap"),
         str(where / "new.lfsnap"), "--key", name, "--json",
         *(["--cumulative"] if cumulative else [])],
        check=True, capture_output=True, text=True).stdout)
    mine = [[[[f["filename"], f["lineno"]] for f in s["frames"]], s["size"], s["size_diff"],
             s["count"], s["count_diff"]] for s in ours["sites"]]
    return mine == json.loads(theirs)


def bench_shape(shape: str, rounds: int) -> dict[str, list[float]]:
    where = prepare(shape)
    old, new = where / "old", where / "new"
    ratios: dict[str, list[float]] = {"stages": [], "command": []}
    print(f"\n{shape}: load both + diff + print the top 10; pickles+compare_to vs ours")
    print(f"  {'key':<20}{'stages (in process)':>30}{'command (fresh process)':>32}  "
          "top 10 identical")
    for key in ("lineno", "filename", "traceback", "lineno+cumulative"):
        name, cumulative = keyed(key)
        flag = ["--cumulative"] if cumulative else []
        stages = subprocess.run([sys.executable, "-c", STAGES, str(where), name,
                                 str(int(cumulative)), str(rounds)], check=True,
                                capture_output=True, text=True, env=ENV).stdout.split()
        sb, sm = map(float, stages)
        base, mine = [], []
        for _ in range(rounds):  # interleaved, so load on the machine hits both alike
            base.append(timed([sys.executable, "-c", BASELINE, f"{old}.pickle",
                               f"{new}.pickle", name, str(int(cumulative))]))
            mine.append(timed([sys.executable, "-m", "leak_forensics", "diff",
                               f"{old}.lfsnap", f"{new}.lfsnap", "--key", name, *flag]))
        b, m = statistics.median(base), statistics.median(mine)
        ratios["stages"].append(sb / sm)
        ratios["command"].append(b / m)
        print(f"  {key:<20}{sb:>9.2f}s {sm:>7.3f}s {sb / sm:>7.1f}x"
              f"{b:>14.2f}s {m:>7.3f}s {b / m:>7.1f}x  {same_numbers(where, key)}")

    pickle_size, ours_size = (where / "new.pickle").stat().st_size, (
        where / "new.lfsnap").stat().st_size
    load = textwrap.dedent(f'''\
        import time, tracemalloc
        from leak_forensics.snapshot import columns, model
        t = time.perf_counter(); tracemalloc.Snapshot.load({str(new) + ".pickle"!r})
        p = time.perf_counter() - t
        t = time.perf_counter(); s = model.load({str(new) + ".lfsnap"!r})
        for c in columns.COLUMNS: s.column(c)
        print(p, time.perf_counter() - t)''')
    loads = [tuple(map(float, subprocess.run([sys.executable, "-c", load], check=True,
                                             capture_output=True, text=True).stdout.split()))
             for _ in range(rounds)]
    pl, ol = (statistics.median(x) for x in zip(*loads, strict=True))
    print(f"  file: {ours_size / 1e6:.1f} MB vs pickle {pickle_size / 1e6:.1f} MB "
          f"({100 * ours_size / pickle_size:.0f}%); load (every column) {ol:.2f}s vs "
          f"unpickling {pl:.2f}s ({pl / ol:.1f}x faster)")
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shape", choices=tuple(SHAPES))
    args = parser.parse_args()
    found = [bench_shape(shape, args.rounds)
             for shape in ([args.shape] if args.shape else SHAPES)]
    stages = min(r for f in found for r in f["stages"])
    command = min(r for f in found for r in f["command"])
    print(f"\nlowest ratio, stages: {stages:.1f}x (bound: 20x) -> "
          f"{'met' if stages >= 20 else 'NOT met'}; whole command: {command:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
