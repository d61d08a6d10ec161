"""Black-box faults on an engine's own process: SIGKILL (between calls, after a drawn delay, or at the Nth
write-like system call through strace's `--inject`), and failing system calls through libfiu (`fiu-run`
preloads its POSIX wrappers; `fiu-ctrl` arms and disarms them in the running process: faults.syscalls).
None needs the engine's cooperation: the same `Process` serves a child hosting an embedded library over a
socket (harness.host) and a server the suite starts on loopback.

    proc = Process.start(argv, syscalls_on=True)  # under fiu-run -x: ready for `arm`
    with proc.kill_at_syscall(2):               # SIGKILL at the 2nd call of one write-like system call
        ...send a request, wait for its answer or the death...
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from faults import syscalls as fiu

# The system calls that change what is on disk (strace's names for x86_64 and aarch64; strace ignores a name
# the architecture lacks only with `?`). strace counts each system call apart and per thread: "the Nth" is
# the Nth call of one of them in one thread, which is what `when=N` means to strace.
WRITE_LIKE = ("write", "pwrite64", "writev", "pwritev", "pwritev2", "fsync", "fdatasync", "msync",
              "sync_file_range", "ftruncate", "?rename", "renameat", "renameat2", "?unlink", "unlinkat",
              "?mkdir", "mkdirat", "?rmdir")


def strace_available() -> bool:
    return shutil.which("strace") is not None


@dataclass
class Process:
    """One engine process, started by the suite, stopped by its process id."""
    popen: subprocess.Popen
    syscalls: bool = False     # started under fiu-run: `arm` and `disarm` work
    armed: list[fiu.SyscallFault] = field(default_factory=list)

    @classmethod
    def start(cls, argv: Sequence[str], syscalls_on: bool = False, seed: int | None = None,
              **popen: object) -> "Process":
        env = dict(popen.pop("env", None) or os.environ)  # type: ignore[call-overload]
        if syscalls_on:
            # jemalloc's background thread (pyarrow's allocator) racing libfiu's per-thread dlsym deadlocks the
            # import (tests/surface/test_fiu_surface.py); without it jemalloc purges inline.
            env.setdefault("JE_ARROW_MALLOC_CONF", "background_thread:false")
            argv = fiu.command(argv, (), seed=seed)
        return cls(subprocess.Popen(list(argv), env=env, **popen), syscalls_on)  # type: ignore[call-overload]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> int:
        """SIGKILL and reap: nothing of the process runs after this returns. Its return code (-9, or how it
        ended by itself before)."""
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        rc = self.popen.wait()
        if self.syscalls:
            fiu.remove_pipes(self.pid)  # libfiu leaves them after a SIGKILL; the pid was ours until reaped
        return rc

    @contextmanager
    def kill_at_syscall(self, n: int) -> Iterator[None]:
        """Inside the block, the process dies by SIGKILL on entering the nth call of any one write-like
        system call (that call does not happen). strace attaches to every thread before the block starts,
        and detaches at its end if the process still lives."""
        if not strace_available():
            raise RuntimeError("strace is not installed (scripts/ensure-strace installs it)")
        calls = ",".join(WRITE_LIKE)
        tracer = subprocess.Popen(
            ["strace", "-f", "-p", str(self.pid), "-o", "/dev/null", "-e", f"trace={calls}",
             "-e", f"inject={calls}:signal=KILL:when={n}"], stderr=subprocess.PIPE, text=True)
        assert tracer.stderr is not None
        line = tracer.stderr.readline()  # "strace: Process N attached[ with M threads]": every thread is
        if "attached" not in line:       # traced from here on (the read is the synchronisation)
            tracer.kill()
            tracer.wait()
            raise RuntimeError(f"strace could not attach to {self.pid}: {line.strip()}")
        try:
            yield
        finally:
            if tracer.poll() is None:
                tracer.send_signal(signal.SIGINT)  # strace detaches from live tracees and exits
            tracer.wait()
            tracer.stderr.close()

    def arm(self, faults: Sequence[fiu.SyscallFault]) -> None:
        """Each of `faults` in force in the process (one fiu-ctrl call) until `disarm`."""
        if not self.syscalls:
            raise RuntimeError("this process was not started under fiu-run (syscalls_on=True)")
        fiu.arm_all(self.pid, faults)
        self.armed.extend(faults)

    def disarm(self) -> None:
        """Every armed fault off (a process that died has none left)."""
        faults, self.armed = self.armed, []
        if faults and self.alive():
            fiu.disarm_all(self.pid, faults)
