"""The seam between the suite and an engine: a `Target` (DESIGN.md section 8).

Like Jepsen's `DB`, `Client` and `Kill` protocols, a target is small: how to open the engine at a path
(running its recovery), how a death is realised (abandon in process, or kill the process that holds it),
what it can do (its `Capabilities`), its failpoints (a catalogue: for each, the operation that reaches it
and what a crash there leaves) and which primitives a fault can aim at in each operation. The machines,
invariants, scenarios, enumerator, kill matrix, stress job and reports take a target, never an engine's
name, and switch off every rule and invariant whose capability the target lacks.

Targets are found by name through the entry-point group `ghostcheck.targets` (see `harness.targets`); an
entry point names a `Target` object, or a callable returning one or a list of them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

from faults.catalogue import Failpoint
from model.contract import Database


@dataclass(frozen=True)
class Capabilities:
    """What an engine offers beyond tables, keys and records (which every target has)."""
    branches: bool = False    # create_branch / delete_branch; reads and writes on a branch
    indexes: bool = False     # create_index and find (an index is never a partial answer: I8)
    backfill: bool = False    # an index over existing rows is built in steps that a fault can interrupt
    versions: bool = False    # versions and a manifest that publishes them (I7: pin == HEAD)
    optimize: bool = False
    cleanup: bool = False     # a sweep that reclaims what the authority does not reference (I5 after it)
    workers: bool = False     # several clients of one database at once, each with its own caches
    inventory: bool = False   # a white-box inventory of authority and physical state (I5, I7, I10, I11)
    failpoints: bool = False  # failpoints of its own: crash, error or callback at a named step
    primitives: bool = False  # primitive faults: chosen calls of its store primitives fail
    process: bool = False     # its engine runs in a process of its own: SIGKILL in flight, between calls, in recovery
    syscalls: bool = False    # that process runs under libfiu: its system calls can fail (EIO, ENOSPC)

    def on(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if getattr(self, f.name))


# Which capabilities each invariant needs (the rest hold for any engine that keeps tables and records).
NEEDS: dict[str, tuple[str, ...]] = {
    "I5 no ghosts": ("inventory",),
    "I7 manifest tracks HEAD": ("inventory", "versions"),
    "I8 index honesty": ("indexes",),
    "I10 idempotent recovery": ("inventory",),
}


def invariants_on(capabilities: Capabilities) -> tuple[str, ...]:
    """The invariants the suite checks on a target with these capabilities, in I1-I11 order."""
    from harness.invariants import INVARIANTS
    return tuple(n for n in INVARIANTS if all(getattr(capabilities, c) for c in NEEDS.get(n, ())))


@dataclass(frozen=True)
class MutantInfo:
    """A known-bug variant a target offers (so the suite can prove it catches that bug class): the
    invariant expected to catch it and the named scenario that re-creates its incident, if any."""
    name: str
    invariant: str
    scenario: str | None = None
    seed: str = ""


@runtime_checkable
class Target(Protocol):
    """An engine the suite can verify. `name` is what a user selects it by (`--suite-targets=`,
    `STRESS_TARGETS=`, `python -m stress --target`); it names its runs, counters and reproducers."""

    # Read-only attributes (a frozen dataclass provides them, as SimpleTarget does).
    @property
    def name(self) -> str: ...
    @property
    def capabilities(self) -> Capabilities: ...
    @property
    def catalogue(self) -> Mapping[str, Failpoint]: ...  # its failpoints (empty without the capability)
    @property
    def primitives(self) -> Mapping[str, tuple[tuple[str, str], ...]]: ...  # operation -> (primitive, store)
    @property
    def stores(self) -> tuple[str, ...]: ...  # store kinds a primitive fault can aim at ("table", ..., "any")
    @property
    def mutants(self) -> Mapping[str, MutantInfo]: ...  # its known-bug variants (may be empty)
    @property
    def scenarios(self) -> tuple[Any, ...]: ...  # harness.scenarios.Scenario values it runs (may be empty)

    def open(self, path: str, faults: Any = None, mutants: Iterable[str] = ()) -> Database:
        """Open (creating if needed) the engine's data at `path`, running its recovery. `faults`: a
        `faults.Failpoints` (its plan and counters) for a target with failpoints or primitives; others
        ignore it. An open that fails releases everything, so the same path can be opened again at once."""
        ...

    def kill(self, db: Database) -> None:
        """Realise a death of the process holding `db`: no engine logic runs (in process: `abandon()`;
        a child process or a server: SIGKILL). The next `open` of its path recovers."""
        ...


@dataclass(frozen=True)
class SimpleTarget:
    """A ready-made `Target` for an engine that opens in process: give it the opener and what it can do.
    `opener(path, faults, mutants)` returns a `model.contract.Database`; a death is `abandon()`."""
    name: str
    opener: Any
    capabilities: Capabilities = Capabilities()
    catalogue: Mapping[str, Failpoint] = field(default_factory=dict)
    primitives: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    stores: tuple[str, ...] = ()
    mutants: Mapping[str, MutantInfo] = field(default_factory=dict)
    scenarios: tuple[Any, ...] = ()
    default: bool = True            # selected when a run names no target
    programs_per_batch: int = 5     # stress programs per batch: a batch should take a few seconds

    def open(self, path: str, faults: Any = None, mutants: Iterable[str] = ()) -> Database:
        unknown = sorted(set(mutants) - set(self.mutants))
        if unknown:
            raise ValueError(f"target {self.name!r} has no mutants {unknown}; it has {sorted(self.mutants)}")
        return self.opener(path, faults, tuple(mutants))

    def kill(self, db: Database) -> None:
        db.abandon()

    def __repr__(self) -> str:  # a printed program names its target by what selects it
        return f"target({self.name!r})"


def points_of(target: Target, operation: str, tag: str | None = None) -> tuple[str, ...]:
    """The target's failpoints reached by `operation` (with `tag`, only those carrying it), sorted."""
    return tuple(sorted(n for n, fp in target.catalogue.items()
                        if fp.operation == operation and (tag is None or tag in fp.tags)))


def points_tagged(target: Target, tag: str) -> tuple[str, ...]:
    return tuple(sorted(n for n, fp in target.catalogue.items() if tag in fp.tags))


def describe(target: Target) -> dict[str, Any]:
    """What a report shows of a target: its capabilities, the invariants on, its failpoints."""
    return {"capabilities": list(target.capabilities.on()),
            "invariants": list(invariants_on(target.capabilities)),
            "failpoints": sorted(target.catalogue), "mutants": sorted(target.mutants)}
