"""Failing I/O at the system-call layer with libfiu (Debian `fiu-utils`, see scripts/ensure-fiu), not a
home-made interposer: `command` runs a child under `fiu-run -x`, which preloads libfiu's POSIX wrappers with
the given faults enabled before the program's own code runs; `arm`/`disarm` switch a fault on and off in a child
already running under fiu-run, through `fiu-ctrl` and the named pipe fiu-run opened for it.

    argv = command([sys.executable, "-c", code], [SyscallFault("fdatasync", "EIO")], seed=7)

libfiu wraps libc entry points, so a fault fires for every caller in the process that goes through the libc
symbol (any thread, any file descriptor: a failing write also fails a thread pool's eventfd wake-ups), and
never for system calls made without libc (syscall(2), Rust's rustix) or from inside libc. Its wrappers look
libc up per thread with dlsym: a thread's first wrapped call racing another thread's dlopen can deadlock.
Failpoint names and options are libfiu 1.1's: `/usr/share/doc/fiu-utils/function_list.gz` (the names),
`fiu-run(1)`/`fiu-ctrl(1)` and libfiu's fiu-rc.c (`failnum`, `failinfo`, `probability`, `onetime`).
"""
from __future__ import annotations

import errno as errno_names
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# libc function -> libfiu failpoint. 64-bit variants (pwrite64, open64, ...) share their base name's point.
# libfiu 1.1 wraps neither openat nor renameat(2), so callers using those escape "open" and "rename".
FAILPOINTS: dict[str, str] = {
    "open": "posix/io/oc/open", "close": "posix/io/oc/close",
    "read": "posix/io/rw/read", "pread": "posix/io/rw/pread", "readv": "posix/io/rw/readv",
    "write": "posix/io/rw/write", "pwrite": "posix/io/rw/pwrite", "writev": "posix/io/rw/writev",
    "pwritev": "posix/io/rw/pwritev", "truncate": "posix/io/rw/truncate", "ftruncate": "posix/io/rw/ftruncate",
    "fsync": "posix/io/sync/fsync", "fdatasync": "posix/io/sync/fdatasync",
    "sync_file_range": "linux/io/sync_file_range",
    "rename": "posix/io/dir/rename", "unlink": "posix/io/dir/unlink",
    "mmap": "posix/mm/mmap", "msync": "posix/mm/msync",
}


# Groups of libc calls one black-box fault fails together (harness/blackbox.py), so that it reaches whichever
# of them an engine uses (one pwrites its pages, another writes and renames). None is what the suite's
# host channel uses (a socket: send/recv) or what the interpreter needs (mmap backs its allocator; a failing
# read would fail an import). libfiu cannot tell a disk's descriptor from any other: "write" also fails an
# eventfd wake-up or a pipe, which no failing disk does (a target may leave a group out for that reason).
GROUPS: dict[str, tuple[str, ...]] = {
    "write": ("write", "writev"), "pwrite": ("pwrite", "pwritev"),
    "sync": ("fsync", "fdatasync", "msync", "sync_file_range"),
    "namespace": ("open", "rename", "unlink", "ftruncate")}


@dataclass(frozen=True)
class SyscallFault:
    """Make `call` fail with `errno` (its name, e.g. "EIO", "ENOSPC").

    `probability=None` fails every call, else each call independently with that probability. `nth` may only
    be 1 (fail the first call that would fail, then disable itself: libfiu's `onetime`); libfiu 1.1 keeps no
    call counter, so a later call is reached by arming with `arm` once the child is at the point of interest.
    """
    call: str
    errno: str = "EIO"
    probability: float | None = None
    nth: int | None = None

    def __post_init__(self) -> None:
        if self.call not in FAILPOINTS:
            raise ValueError(f"libfiu has no failpoint for {self.call!r}; known: {sorted(FAILPOINTS)}")
        if not isinstance(getattr(errno_names, self.errno, None), int):
            raise ValueError(f"unknown errno name {self.errno!r}")
        if self.probability is not None and not 0.0 < self.probability <= 1.0:
            raise ValueError(f"probability must be in (0, 1], got {self.probability}")
        if self.nth not in (None, 1):
            raise ValueError("libfiu can fail only the first call (nth=1) or every call (nth=None)")

    @property
    def failpoint(self) -> str:
        return FAILPOINTS[self.call]

    def enable_command(self) -> str:
        """The libfiu remote-control command (what both `fiu-run -c` and `fiu-ctrl -c` take)."""
        # failinfo is the errno the POSIX wrappers set; without it they pick one at random per failure.
        params = f"name={self.failpoint},failnum=1,failinfo={getattr(errno_names, self.errno)}"
        if self.nth == 1:
            params += ",onetime"
        if self.probability is None:
            return f"enable {params}"
        return f"enable_random {params},probability={self.probability!r}"

    def disable_command(self) -> str:
        return f"disable name={self.failpoint}"


def fiu_available() -> bool:
    return shutil.which("fiu-run") is not None and shutil.which("fiu-ctrl") is not None


def command(argv: Sequence[str], faults: Iterable[SyscallFault] = (), seed: int | None = None) -> list[str]:
    """The command line running `argv` under fiu-run with `faults` enabled from the start.

    A seed makes probabilities reproducible: libfiu reads FIU_PRNG_SEED once at start-up (and does not
    re-seed forked children when it is set), so the same seed gives the same fail/pass sequence *provided the
    child reaches the probabilistic failpoints in the same order*. libfiu has one PRNG per process shared by
    every failpoint and thread, so a child whose threads race to them is not reproducible call by call.
    Without a seed libfiu seeds from the clock. The seed is reduced to what libfiu's atoi() parses.
    """
    fiu_run = shutil.which("fiu-run")
    if fiu_run is None:
        raise RuntimeError("fiu-run is not installed (scripts/ensure-fiu installs it)")
    prefix = ["env", f"FIU_PRNG_SEED={seed % 2**31}"] if seed is not None else []
    enables = [arg for f in faults for arg in ("-c", f.enable_command())]
    return [*prefix, fiu_run, "-x", *enables, *argv]


def pipe_paths(pid: int) -> tuple[str, str]:
    """The named pipes libfiu's remote control opens for `pid` (fiu-run and fiu-ctrl both default to the
    prefix $TMPDIR/fiu-ctrl)."""
    prefix = os.path.join(os.environ.get("TMPDIR") or "/tmp", "fiu-ctrl")
    return f"{prefix}-{pid}.in", f"{prefix}-{pid}.out"


def remove_pipes(pid: int) -> None:
    """Remove the pipes of a process that is dead and reaped. libfiu unlinks them only at a clean exit: after
    a SIGKILL they stay, and a later process given the same pid would look armed to fiu-ctrl."""
    for path in pipe_paths(pid):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def runs_libfiu(pid: int) -> bool:
    """Whether process `pid` has libfiu's preload mapped: a pipe alone may be a dead process's leftover."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return any("fiu_run_preload" in line for line in maps)
    except OSError:
        return False


def _ctrl(pid: int, cmd: str | Sequence[str], timeout_s: float) -> None:
    fiu_ctrl = shutil.which("fiu-ctrl")
    if fiu_ctrl is None:
        raise RuntimeError("fiu-ctrl is not installed (scripts/ensure-fiu installs it)")
    # fiu-ctrl writes to a pipe it finds for the pid; a leftover pipe nobody reads would block it forever.
    if not runs_libfiu(pid):
        raise RuntimeError(f"fiu-ctrl {cmd!r}: process {pid} is not running under fiu-run (unknown pid)")
    # fiu-ctrl returns once the child's control thread replied, so the fault is in force on return; but it
    # exits 0 even for an unknown pid or a refused command, reporting those on stdout only.
    cmds = [cmd] if isinstance(cmd, str) else list(cmd)
    out = subprocess.run([fiu_ctrl, *(a for c in cmds for a in ("-c", c)), str(pid)], capture_output=True,
                         text=True, timeout=timeout_s, check=True).stdout
    if "Error" in out or "returned error" in out:
        raise RuntimeError(f"fiu-ctrl {cmd!r} {pid}: {out.strip()}")


def arm(pid: int, fault: SyscallFault, timeout_s: float = 30.0) -> None:
    """Enable `fault` in process `pid`, which must run under fiu-run (`command`)."""
    _ctrl(pid, fault.enable_command(), timeout_s)


def disarm(pid: int, fault: SyscallFault, timeout_s: float = 30.0) -> None:
    _ctrl(pid, fault.disable_command(), timeout_s)


def arm_all(pid: int, faults: Iterable[SyscallFault], timeout_s: float = 30.0) -> None:
    """Enable several faults with one fiu-ctrl call (each is in force on return)."""
    _ctrl(pid, [f.enable_command() for f in faults], timeout_s)


def disarm_all(pid: int, faults: Iterable[SyscallFault], timeout_s: float = 30.0) -> None:
    _ctrl(pid, [f.disable_command() for f in faults], timeout_s)
