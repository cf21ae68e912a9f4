"""The reference walks survive CPython 3.12.0-3.12.5's ``_asyncio`` traverse, which hands
out freed future iterators (gh-122695): after anything awaited, a walk that asked for that
module's referents looped its free list and grew a list until the machine ran out of memory.
Run in a child with its address space capped, so a regression fails this test instead of
the machine; on other interpreters the same walks must simply work."""

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import asyncio, gc, resource, sys, types, _asyncio
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    async def awaits():
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        await future  # the iterator that awaits it goes to the free list

    for _ in range(3):
        asyncio.run(awaits())

    from leak_forensics.analysis.owners import owner_chains, untracked_leaks
    from leak_forensics.cleanup import stdlib_caches
    from leak_forensics.referents import referents

    def walk():
        app = types.ModuleType("myapp_loop")
        sys.modules["myapp_loop"] = app
        # a heap type of _asyncio's: a forward walk from the namespace reaches the module
        app.MEMO = {"futures": [asyncio.Future]}
        leaked = app.MEMO["futures"]
        for _ in range(20):
            stdlib_caches.SAFE["__warningregistry__"]()
            assert vars(_asyncio) in referents(_asyncio)
            chain = owner_chains([leaked], lambda o: o is leaked)[0]
            untracked_leaks([("myapp_loop", vars(app))], set(), lambda o: None)
            gc.collect()
        return chain.path

    print(walk())
""")


def test_reference_walks_survive_freed_future_iterators():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=60)  # the fixed walks take a second; broken, they never end
    assert done.returncode == 0, done.stderr[-2000:]
    assert "myapp_loop.MEMO['futures'] -> list" in done.stdout
