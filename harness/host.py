"""An embedded engine in a process of its own, answering contract calls over a socket: the child side
(`python -m harness.host <target>`) and the parent's `HostedDatabase`, which any in-process target
becomes through `HostedTarget` (targets/blackbox.py). The parent faults the child from outside only
(faults.process): SIGKILL while a call is in flight, between calls, inside the open's recovery, and
failing system calls through libfiu.

The channel is a socketpair, not the child's stdin and stdout: a native library may print to fd 1, and a
libfiu fault on `write` must fail the engine's writes, not the answers (they go by send/recv, which the
write-like faults leave alone). A frame is 8 bytes of length and a pickle: the arguments keep their exact
types (a `str` subclass must reach the engine's input rules as one); both sides are the suite's own code.
"""
from __future__ import annotations

import atexit
import os
import pickle
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from faults.plan import SimulatedCrash
from faults.process import Process
from faults.syscalls import GROUPS
from harness.invariants import fail
from harness.target import Capabilities, MutantInfo

FD_ENV = "GHOSTCHECK_HOST_FD"
HEADER = struct.Struct(">Q")


class EngineKilled(SimulatedCrash):
    """The suite killed the engine's process while a call was in flight: the call is indeterminate."""


class EngineDied(SimulatedCrash):
    """The engine's process ended by itself during a call (an abort under a failing disk, a crash):
    indeterminate too, and a finding when no fault explains it."""
    unplanned = True


class EngineError(Exception):
    """The engine raised an exception outside the contract (its type and text arrive, not the object)."""


@dataclass(frozen=True)
class Kill:
    """Where a planned SIGKILL lands: `("delay", seconds)` after the request is sent, or `("syscall", n)`
    at the nth call of one write-like system call (faults.process.WRITE_LIKE)."""
    how: str
    at: float

    def __post_init__(self) -> None:
        if self.how not in ("delay", "syscall") or self.at < 0 or (self.how == "syscall" and self.at < 1):
            raise ValueError(f"a kill is ('delay', seconds) or ('syscall', n >= 1), not {self!r}")


def _send(sock: socket.socket, value: Any) -> None:
    data = pickle.dumps(value)
    sock.sendall(HEADER.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(left)
        if not chunk:
            return None  # the other side is gone
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket) -> Any:
    head = _recv_exact(sock, HEADER.size)
    body = None if head is None else _recv_exact(sock, HEADER.unpack(head)[0])
    if body is None:
        raise EOFError
    return pickle.loads(body)


# -- the child ------------------------------------------------------------------------------------------
def _answer(call: Any, *args: Any, **kwargs: Any) -> tuple:
    from model.errors import ContractError
    try:
        return ("ok", call(*args, **kwargs))
    except ContractError as e:
        return ("error", e)
    except Exception as e:  # noqa: BLE001 - outside the contract: its type and text go back
        return ("raised", type(e).__name__, str(e)[:2000])


def _serve(sock: socket.socket, worker: Any) -> None:
    """Another client of the open database: its calls on a thread of their own, so that the clients' calls
    run in the engine at the same time, as a server's would. It ends when its parent closes its end."""
    with sock:
        while True:
            try:
                name, args = _recv(sock)
            except (EOFError, OSError):
                return
            _send(sock, _answer(getattr(worker, name), *args))


def main(target_name: str) -> None:
    """Open, answer calls, and after an orderly close wait for the next open: a close and reopen need no
    new process (a death always gets one: the parent kills this one). A `worker` call brings the socket
    of a new client (SCM_RIGHTS) and starts its thread."""
    from harness.targets import load
    sock = socket.socket(fileno=int(os.environ[FD_ENV]))
    target = load(target_name)  # its imports happen before "ready": a restart's cost is its recovery
    while True:
        _send(sock, ("ready", os.getpid()))
        try:
            _kind, path, mutants = _recv(sock)
        except EOFError:
            return  # a standby its parent no longer needs
        opened = _answer(target.open, path, mutants=mutants)
        db = opened[1] if opened[0] == "ok" else None
        _send(sock, ("ok", None) if db is not None else opened)
        while db is not None:
            try:
                name, args = _recv(sock)
            except EOFError:
                return  # the parent is gone: so is the child, with nothing closed (as a death would leave it)
            if name == "close":
                _send(sock, _answer(db.close))
                db = None
            elif name == "worker":
                _msg, fds, _flags, _addr = socket.recv_fds(sock, 1, 1)
                opened = _answer(db.worker)
                if opened[0] == "ok":
                    threading.Thread(target=_serve, args=(socket.socket(fileno=fds[0]), opened[1]),
                                     daemon=True).start()
                    opened = ("ok", None)
                else:
                    os.close(fds[0])
                _send(sock, opened)
            else:
                _send(sock, _answer(getattr(db, name), *args))


# -- the parent -------------------------------------------------------------------------------------------
class HostedDatabase:
    """A `model.contract.Database` whose engine runs in a child process. `plan_kill(name, kill)` makes the
    next call of `name` die in flight; `plan_syscall(name, faults)` fails system calls in the child during it."""

    def __init__(self, proc: Process, sock: socket.socket, stderr: Any, bound_s: float,
                 key: tuple[str, bool], root: HostedDatabase | None = None) -> None:
        self.proc, self.sock, self.stderr, self.bound_s, self.key = proc, sock, stderr, bound_s, key
        self.root = root  # None for the client that opened the database; else that client
        self.others: list[HostedDatabase] = []  # the opener's other clients, closed with it
        self.kills: dict[str, Kill] = {}
        self.syscall_faults: dict[str, Any] = {}
        self.closed = False
        self.handed_off = False  # closed in order: its child serves another client now

    def plan_kill(self, name: str, kill: Kill) -> None:
        self.kills[name] = kill

    def plan_syscall(self, name: str, fault: Any) -> None:
        """The next call of `name` runs with `fault` (faults.syscalls.SyscallFault values) armed, only it."""
        self.syscall_faults[name] = fault

    def call(self, name: str, *args: Any) -> Any:
        if self.closed:
            from model.errors import StorageError
            raise StorageError("the database is closed")
        fault = self.syscall_faults.pop(name, None)
        if fault is not None:
            self.proc.arm(fault)  # fiu-ctrl returns once the child's libfiu has it in force
        try:
            reply = self.request((name, args), self.kills.pop(name, None), f"{name}{args!r}")
        finally:
            if fault is not None:
                self.proc.disarm()
        return unwrap(reply)

    def request(self, message: Any, kill: Kill | None, what: str) -> Any:
        """Send `message` and wait for the answer, or for the death `kill` plans, or for the bound."""
        try:
            if kill is not None and kill.how == "syscall":
                with self.proc.kill_at_syscall(int(kill.at)):
                    _send(self.sock, message)
                    return self._wait(self.bound_s, what, planned=True)
            _send(self.sock, message)
            if kill is not None:
                reply = self._wait(kill.at, what, planned=True, hang=False)
                if reply is not None:
                    return reply
                self.proc.kill()
                raise EngineKilled(f"killed {kill.at:.4f} s into {what}")
            return self._wait(self.bound_s, what, planned=False)
        except (BrokenPipeError, ConnectionResetError):
            return self._died(what, planned=kill is not None)

    def _wait(self, seconds: float, what: str, planned: bool, hang: bool = True) -> Any:
        ready, _, _ = select.select([self.sock], [], [], seconds)
        if not ready:
            if not hang:
                return None
            rc = self.proc.kill()
            raise fail("I9 no wedge", f"{what} had no answer within {seconds:g} s: the engine's process "
                                      f"{self.proc.pid} hung and was killed (rc {rc}){self.tail()}")
        try:
            return _recv(self.sock)  # a frame is sent whole: once its first byte is here, the rest follows
        except (EOFError, ConnectionResetError):
            return self._died(what, planned)

    def _died(self, what: str, planned: bool) -> Any:
        rc = self.proc.kill()
        self.closed = True
        if planned and rc == -9:
            raise EngineKilled(f"killed in {what}")
        raise EngineDied(f"the engine's process {self.proc.pid} ended (rc {rc}) in {what}{self.tail()}")

    def tail(self) -> str:
        self.stderr.seek(0)
        text = self.stderr.read().decode("utf-8", "replace").strip()
        return f"; its stderr ends: {text[-600:]}" if text else ""

    def close(self) -> None:
        """An orderly close; the child then waits for its next open (a standby again). Another client's
        close ends only its connection."""
        if self.root is not None:
            self.closed = True
            self.sock.close()
            return
        if self.handed_off:
            return
        for other in self.others:  # their threads in the child end before the database closes
            other.close()
        if self.closed or not self.proc.alive():
            return self.abandon()
        self.closed = True
        try:
            unwrap(self.request(("close", ()), None, "close()"))
        except BaseException:
            self.abandon()
            raise
        again = HostedDatabase(self.proc, self.sock, self.stderr, self.bound_s, self.key)
        self.handed_off = True
        pool = _STANDBY.setdefault(self.key, [])
        if len(pool) < 2:
            pool.insert(0, again)  # warm: the next open takes it first
        else:
            again.abandon()

    def abandon(self) -> None:
        """A death: SIGKILL, nothing of the engine runs after it (of every client's process)."""
        root = self.root or self
        if root.handed_off:
            return  # this client's process lives on for another: closing it again must not kill that
        root.closed = True
        root.proc.kill()
        for other in root.others:
            other.closed = True
            other.sock.close()
        root._release()

    def _release(self) -> None:
        self.sock.close()
        self.stderr.close()

    def worker(self) -> HostedDatabase:
        """Another client of the same engine, with a connection of its own: its calls run in the child on
        a thread of their own, beside the other clients' (the engine's `worker()` there)."""
        root = self.root or self
        if root.closed:
            from model.errors import StorageError
            raise StorageError("the database is closed")
        mine, theirs = socket.socketpair()
        try:
            _send(root.sock, ("worker", ()))
            socket.send_fds(root.sock, [b"w"], [theirs.fileno()])
        except (BrokenPipeError, ConnectionResetError):
            mine.close()
            return root._died("worker()", planned=False)
        finally:
            theirs.close()
        try:
            unwrap(root._wait(root.bound_s, "worker()", planned=False))
        except BaseException:
            mine.close()
            raise
        other = HostedDatabase(root.proc, mine, root.stderr, root.bound_s, root.key, root=root)
        root.others.append(other)
        return other

    # The contract's calls, each one request (arguments as given: the engine's input rules judge them).
    def create_table(self, *a: Any) -> Any: return self.call("create_table", *a)
    def drop_table(self, *a: Any) -> Any: return self.call("drop_table", *a)
    def create_index(self, *a: Any) -> Any: return self.call("create_index", *a)
    def put(self, *a: Any) -> Any: return self.call("put", *a)
    def delete(self, *a: Any) -> Any: return self.call("delete", *a)
    def get(self, *a: Any) -> Any: return self.call("get", *a)
    def scan(self, *a: Any) -> Any: return self.call("scan", *a)
    def find(self, *a: Any) -> Any: return self.call("find", *a)
    def tables(self) -> Any: return self.call("tables")
    def branches(self) -> Any: return self.call("branches")
    def create_branch(self, *a: Any) -> Any: return self.call("create_branch", *a)
    def delete_branch(self, *a: Any) -> Any: return self.call("delete_branch", *a)
    def optimize(self) -> Any: return self.call("optimize")
    def cleanup(self) -> Any: return self.call("cleanup")
    def inventory(self) -> Any: return self.call("inventory")


def unwrap(reply: tuple) -> Any:
    if reply[0] == "ok":
        return reply[1]
    if reply[0] == "error":
        raise reply[1]
    raise EngineError(f"{reply[1]}: {reply[2]}")


# Children waiting for an open, per (hosted target, under libfiu): started ahead (their imports ran while the
# last one worked) or closed in order; at most two each.
_STANDBY: dict[tuple[str, bool], list[HostedDatabase]] = {}


def _spawn(hosts: str, syscalls_on: bool, bound_s: float) -> HostedDatabase:
    parent, child = socket.socketpair()
    stderr = tempfile.TemporaryFile()
    env = {**os.environ, FD_ENV: str(child.fileno())}
    # One libfiu seed for every child: a seeded-probability fault fails the same calls in a re-run.
    proc = Process.start([sys.executable, "-m", "harness.host", hosts], syscalls_on, seed=1, env=env,
                         pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=stderr)
    child.close()
    return HostedDatabase(proc, parent, stderr, bound_s, (hosts, syscalls_on))


def start(hosts: str, path: str, mutants: Iterable[str] = (), syscalls_on: bool = False,
          kill: Kill | None = None, bound_s: float = 60.0) -> HostedDatabase:
    """A child hosting the in-process target `hosts` with `path` open in it (its recovery runs there), and
    its client. With `kill`, the child dies in that recovery (EngineKilled) unless the open ends first.

    The child is a standby when there is one, and a new standby is started when none is left, so a restart
    costs the engine's own open; a standby ends when its parent does (EOF on its socket)."""
    pool = _STANDBY.setdefault((hosts, syscalls_on), [])
    while pool and not pool[0].proc.alive():  # a standby that died meanwhile (killed from outside)
        pool.pop(0).abandon()
    db = pool.pop(0) if pool else _spawn(hosts, syscalls_on, bound_s)
    if not pool:
        pool.append(_spawn(hosts, syscalls_on, bound_s))
    try:
        ready = db._wait(bound_s, "the child's start", planned=False)
        if ready[0] != "ready":
            raise EngineError(f"the child answered {ready!r} to its start")
        db.bound_s = bound_s
        unwrap(db.request(("open", path, tuple(mutants)), kill, f"open({path!r})"))
    except BaseException:
        db.abandon()
        raise
    return db


@atexit.register
def stop_standbys() -> None:
    """Every standby child, by its process id."""
    while _STANDBY:
        for db in _STANDBY.popitem()[1]:
            db.abandon()


@dataclass(frozen=True)
class HostedTarget:
    """An in-process target (`hosts`, a registered name or `module:object`) run in a child process and
    faulted only from outside: no failpoints, no primitive faults. Several clients (`worker()`), each with a
    connection and a thread of its own in the child. `faults` passed to `open` is a `Kill` for its
    recovery, or ignored."""
    name: str
    hosts: str
    capabilities: Capabilities
    mutants: Mapping[str, MutantInfo] = field(default_factory=dict)
    catalogue: Mapping[str, Any] = field(default_factory=dict)
    primitives: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    stores: tuple[str, ...] = ()
    scenarios: tuple[Any, ...] = ()
    default: bool = False        # black-box runs are chosen by name
    programs_per_batch: int = 2
    bound_s: float = 60.0        # a call with no answer by then is a hang: killed, reported as I9
    syscall_groups: tuple[str, ...] = tuple(GROUPS)  # what a system-call fault may fail (faults.syscalls)

    def open(self, path: str, faults: Any = None, mutants: Iterable[str] = ()) -> HostedDatabase:
        unknown = sorted(set(mutants) - set(self.mutants))
        if unknown:
            raise ValueError(f"target {self.name!r} has no mutants {unknown}; it has {sorted(self.mutants)}")
        return start(self.hosts, path, mutants, self.capabilities.syscalls,
                     faults if isinstance(faults, Kill) else None, self.bound_s)

    def kill(self, db: HostedDatabase) -> None:
        db.abandon()

    def __repr__(self) -> str:
        return f"target({self.name!r})"


if __name__ == "__main__":
    main(sys.argv[1])
