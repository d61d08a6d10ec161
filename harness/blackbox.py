"""The fault machine's black-box rules, for a target whose engine runs in a process of its own (the
capabilities `process` and `syscalls`): no failpoint, no cooperation from the engine.

- `kill_in_flight`: SIGKILL while one write is in flight, at the engine's Nth call of one write-like system
  call (strace); the call is indeterminate and the model forks, as for a crash at a failpoint; a killed put
  or delete is retried (I9).
- `kill_in_recovery`: a death between calls, then a death inside the next open's recovery, then an open
  (a kill in flight draws one too: `recovery=('syscall', 2)` kills the open that recovers what it left).
- `syscall_fault_in`: one write with a group of system calls failing (libfiu: EIO or ENOSPC, on every call
  or with a seeded probability) for exactly that call, then a death and a restart, as an operator restarts
  a process whose disk failed. A failure it reports is a StorageError (or a death): anything else is unexpected.

A printed program says what ran: `kill=('syscall', 2)`, `fault=('sync', 'EIO', None)`. Each fault is
counted planned and fired per target (reports/counters.py): a kill fired if the call died in flight, a
system-call fault if the call failed or died (libfiu keeps no count of its own).
"""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from faults.syscalls import GROUPS, SyscallFault
from harness import strategies as S
from harness.host import Kill
from harness.target import Target
from model import errors as E
from model.ops import Op
from reports.counters import RUN

WRITES = ("put", "delete", "create_table", "drop_table", "create_index", "create_branch", "delete_branch",
          "optimize", "cleanup")
NEEDS = {"create_index": "indexes", "create_branch": "branches", "delete_branch": "branches",
         "optimize": "optimize", "cleanup": "cleanup"}
# Where a drawn kill lands: the nth call of one write-like system call, which a program replays (the calling
# thread's calls come in the order the engine makes them). A delay (`Kill("delay", s)`, for a process strace
# cannot attach to) lands wherever the clock says, so a program with one does not replay, and Hypothesis
# cannot shrink it; the rules draw none.
KILLS = st.tuples(st.just("syscall"), st.integers(1, 2) | st.integers(3, 8))  # most writes make one or two
RECOVERY_KILLS = st.tuples(st.just("syscall"), st.integers(1, 3))  # an open writes little: land in it


def syscall_faults(groups: tuple[str, ...]) -> st.SearchStrategy[tuple]:
    """(group of faults.syscalls.GROUPS, errno, probability: None fails every call)."""
    return st.tuples(st.sampled_from(groups), st.sampled_from(("EIO", "ENOSPC")), st.sampled_from((None, 0.5)))


class BlackBoxRules:
    """Mixed into FaultMachine; `rules_for` adds the rules a target's capabilities allow."""
    db: Any
    model: Any
    deaths: int

    blackbox_armed = False   # a system-call fault was armed since the last open (a StorageError is explained)
    recovery_kill: tuple | None = None  # where the next open's recovery dies

    def _count(self, kind: str, fired: bool) -> None:
        from harness.fault_machine import TOTALS
        TOTALS[f"planned {kind}"] += 1
        TOTALS[f"fired {kind}"] += fired
        RUN.blackbox(self.target.name, kind, fired)  # type: ignore[attr-defined]

    def _write_op(self, what: str, w: int, table: str, new_table: str, branch: str, name: str, key: str,
                  record: dict[str, Any], attr: str) -> Op:
        indexed = (attr,) if self.target.capabilities.indexes else ()  # type: ignore[attr-defined]
        args = {"put": (table, key, record, branch), "delete": (table, key, branch),
                "create_table": (new_table, indexed), "drop_table": (table,), "create_index": (table, attr),
                "create_branch": (name, branch), "delete_branch": (branch,), "optimize": (), "cleanup": ()}
        return Op(what, args[what], w % len(self.workers))  # type: ignore[attr-defined]

    def _kill_in_flight(self, w: int, what: str, table: str, new_table: str, branch: str, name: str, key: str,
                        record: dict[str, Any], attr: str, kill: tuple, recovery: tuple | None = None) -> None:
        """`recovery`: where the open after the death dies in its turn, while the recovery of what the
        killed call left is under way."""
        op = self._write_op(what, w, table, new_table, branch, name, key, record, attr)
        client = self.workers[op.worker]  # type: ignore[attr-defined]  # the connection the call goes by
        client.plan_kill(what, Kill(*kill))
        deaths, self.recovery_kill = self.deaths, recovery
        self.run(op)  # type: ignore[attr-defined]
        self.recovery_kill = None  # not used if the call ended first
        fired = self.deaths > deaths
        self._count("kill in flight", fired)
        if self.db is not None:
            client.kills.clear()  # a plan the call did not use (it never reached the engine) ends here
            if fired and what in ("put", "delete"):
                self.run(op)  # type: ignore[attr-defined]  # the client retries: I9

    def _syscall_fault_in(self, w: int, what: str, table: str, new_table: str, branch: str, name: str, key: str,
                          record: dict[str, Any], attr: str, fault: tuple) -> None:
        op = self._write_op(what, w, table, new_table, branch, name, key, record, attr)
        group, errno, probability = fault
        self.blackbox_armed = True
        self.workers[op.worker].plan_syscall(  # type: ignore[attr-defined]
            what, [SyscallFault(c, errno, probability) for c in GROUPS[group]])
        deaths, unexpected = self.deaths, len(self.unexpected)  # type: ignore[attr-defined]
        answer = self.run(op)  # type: ignore[attr-defined]
        fired = (self.deaths > deaths or isinstance(answer, E.StorageError)
                 or len(self.unexpected) > unexpected)  # type: ignore[attr-defined]
        self._count("system-call fault", fired)
        if self.deaths == deaths:
            self._restart_after_death()  # type: ignore[attr-defined]

    def _kill_in_recovery(self, kill: tuple) -> None:
        self.recovery_kill = kill
        self._restart_after_death()  # type: ignore[attr-defined]

    def _recover_with_kill(self) -> None:
        """The open after a death dies itself, inside its recovery, if it gets that far (else it dies just
        after); the model's pending operations stay pending."""
        kill, self.recovery_kill = self.recovery_kill, None
        if kill is None:
            return
        fired = False
        try:
            db = self.target.open(self.dir, faults=Kill(*kill), mutants=self.mutants)  # type: ignore[attr-defined]
            db.abandon()
        except BaseException as e:
            from faults.plan import SimulatedCrash
            if not isinstance(e, SimulatedCrash) or getattr(e, "unplanned", False):
                raise
            fired = True
        self._count("kill in recovery", fired)
        self.model.restarted()

    @classmethod
    def blackbox_rules(cls, target: Target) -> dict[str, Any]:
        caps = target.capabilities
        if not caps.process:
            return {}
        T, B = cls.tables, cls.branches  # type: ignore[attr-defined]
        others = tuple(k for k in WRITES[2:] if k not in NEEDS or getattr(caps, NEEDS[k]))
        # Names from the alphabet, not from the model's state (S.created_*): a death's outcome depends on where
        # it lands among threads, so a draw that read the state would replay differently, and Hypothesis
        # calls that a flaky strategy (FlakyStrategyDefinition) however correct the engine.
        args = dict(w=S.workers, table=T, new_table=st.sampled_from(S.CREATED_TABLES), branch=B,
                    name=st.sampled_from(S.CREATED_BRANCHES), key=S.keys, record=S.records, attr=S.attrs)
        groups = tuple(getattr(target, "syscall_groups", GROUPS))  # what it leaves out libfiu cannot aim well
        faults = {"kill": KILLS, **({"fault": syscall_faults(groups)} if caps.syscalls and groups else {})}
        extra = {"kill": {"recovery": st.none() | RECOVERY_KILLS}, "fault": {}}
        out: dict[str, Any] = {}
        live = precondition(lambda self: self.db is not None)
        from harness.machine import counted
        # The puts and deletes apart from the rest, so that every program's few draws fault the writes too.
        for suffix, whats in (("_write", WRITES[:2]), ("", others)):
            for fault, fn in (("kill", cls._kill_in_flight), ("fault", cls._syscall_fault_in)):
                if fault in faults:
                    name = f"{'kill_in_flight' if fault == 'kill' else 'syscall_fault_in'}{suffix}"
                    drawn: dict[str, Any] = {**args, "what": st.sampled_from(whats), fault: faults[fault],
                                             **extra[fault]}
                    out[name] = rule(**drawn)(live(counted(fn, name)))
        out["kill_in_recovery"] = rule(kill=RECOVERY_KILLS)(live(counted(cls._kill_in_recovery, "kill_in_recovery")))
        return out

