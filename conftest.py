"""Root pytest configuration: Hypothesis profiles, the `--suite-*` options, markers, and the backend fixture.

Profiles (HYPOTHESIS_PROFILE): `dev` fast and random, `ci` deterministic (derandomized, no deadline, prints
the reproduction blob), `nightly` many examples and long programs.
"""
from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, settings

# Records every session into reports/runs/<SUITE_RUN_ID>/ (summary, JUnit XML); --no-suite-report turns it off.
pytest_plugins = ["reports.plugin"]

BACKENDS = ("lmdb", "rocksdb", "lance")
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile("dev", max_examples=15, stateful_step_count=25, deadline=None,
                          suppress_health_check=_SLOW_OK)
settings.register_profile("ci", max_examples=100, stateful_step_count=40, deadline=None, derandomize=True,
                          print_blob=True, database=None, suppress_health_check=_SLOW_OK)
settings.register_profile("nightly", max_examples=1000, stateful_step_count=120, deadline=None,
                          print_blob=True, suppress_health_check=_SLOW_OK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("suite", "verification suite")
    group.addoption("--suite-backends", default=os.environ.get("SUITE_BACKENDS", ",".join(BACKENDS)),
                    help="comma-separated backends to run: lmdb,rocksdb,lance (default all; env SUITE_BACKENDS)")


def pytest_configure(config: pytest.Config) -> None:
    # One run directory for the whole session, shared with xdist workers through the environment.
    os.environ.setdefault("SUITE_RUN_ID", time.strftime("%Y%m%d-%H%M%S"))
    for line in (
        "backend_only(*names): run this test only on the named backends",
        "slow: takes more than a few seconds",
        "stress: long runs for `make stress` and nightly loops, deselected by default in `make test`",
        "killproc: uses a real child process killed with SIGKILL",
    ):
        config.addinivalue_line("markers", line)
    chosen = [b.strip() for b in config.getoption("--suite-backends").split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown:
        raise pytest.UsageError(f"--suite-backends: unknown {unknown}; choose from {BACKENDS}")
    config._suite_backends = tuple(chosen)  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    profile = os.environ.get("HYPOTHESIS_PROFILE", "dev")
    return f"suite: backends={','.join(config._suite_backends)} hypothesis-profile={profile}"  # type: ignore


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that asks for `backend` over the chosen backends (minus `backend_only`)."""
    if "backend" not in metafunc.fixturenames:
        return
    chosen = list(metafunc.config._suite_backends)  # type: ignore[attr-defined]
    marker = metafunc.definition.get_closest_marker("backend_only")
    if marker is not None:
        chosen = [b for b in chosen if b in marker.args]
    metafunc.parametrize("backend", chosen)
