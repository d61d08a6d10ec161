"""A fleet shares failures through Redis: one stress worker's failing example, saved in Hypothesis's
Redis-backed example database, is replayed first by another run that only reuses saved examples (what a
second machine does). Against a real redis-server on loopback, installed by scripts/ensure-redis when missing."""
from __future__ import annotations

import os
import socket
import subprocess
import unittest

import pytest
from hypothesis import Phase, seed, settings
from hypothesis.stateful import get_state_machine_test

from stress.replay import machine_class
from stress.worker import example_database

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def redis_url(tmp_path):
    found = subprocess.run([os.path.join(ROOT, "scripts", "ensure-redis")], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip(f"no redis-server and it cannot be installed here: {found.stderr.strip()}")
    with socket.socket() as s:  # a free port on loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([found.stdout.strip(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        for line in server.stdout:  # ready when it says so: no polling, no sleeping
            if "Ready to accept connections" in line:
                break
        else:
            pytest.fail("redis-server exited before it was ready")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _run(url: str, phases: list[Phase], tmp: str) -> BaseException | None:
    machine = machine_class("lmdb", ("create_lock_leak",))
    config = settings(max_examples=200, stateful_step_count=40, deadline=None, database=example_database(url, tmp),
                      phases=phases, report_multiple_bugs=False, derandomize=False)
    try:
        get_state_machine_test(seed(20261121)(machine), settings=config)()  # the same programs every run
    except unittest.SkipTest:  # only reuse, and nothing saved: no example ran
        return None
    except Exception as e:  # noqa: BLE001 - the failure is the point
        return e
    return None


def test_a_failure_saved_by_one_worker_is_replayed_by_another(redis_url, tmp_path):
    import redis
    client = redis.Redis.from_url(redis_url)
    assert _run(redis_url, [Phase.reuse], str(tmp_path)) is None  # control: nothing saved, nothing replayed
    found = _run(redis_url, [Phase.generate, Phase.shrink], str(tmp_path))  # machine A finds and saves it
    assert found is not None and "I9" in str(found)
    assert client.dbsize() > 0
    replayed = _run(redis_url, [Phase.reuse], str(tmp_path))  # machine B: only what the fleet saved
    assert replayed is not None and "I9" in str(replayed)
