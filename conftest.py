"""Root pytest configuration: Hypothesis profiles, the `--suite-*` options, markers, and the `target` and
`backend` parameters: `target` runs a harness test on every chosen target (through the seam), `backend`
runs a test of the reference engine itself on every chosen target that is one of its backends.

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

BACKENDS = ("lmdb", "rocksdb", "lance")  # the reference engine's (sut.BACKENDS), for its own tests
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
    group.addoption("--suite-targets", "--suite-backends", dest="suite_targets",
                    default=os.environ.get("SUITE_TARGETS") or os.environ.get("SUITE_BACKENDS") or None,
                    help="comma-separated targets: registered names (lmdb,rocksdb,lance,memory) or module:object "
                         "(default: the registered targets in default runs; env SUITE_TARGETS)")


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
    from harness.targets import load, registered
    spec = config.getoption("suite_targets")
    if spec is None:
        spec = ",".join(n for n, t in registered().items() if getattr(t, "default", True))
    try:
        targets = [load(s.strip()) for s in spec.split(",") if s.strip()]
    except (KeyError, ValueError, ImportError, AttributeError, TypeError) as e:
        raise pytest.UsageError(f"--suite-targets: {e}") from e
    config._suite_targets = tuple(targets)  # type: ignore[attr-defined]
    config._suite_backends = tuple(t.name for t in targets if t.name in BACKENDS)  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    profile = os.environ.get("HYPOTHESIS_PROFILE", "dev")
    names = ",".join(t.name for t in config._suite_targets)  # type: ignore[attr-defined]
    return f"suite: targets={names} hypothesis-profile={profile}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that asks for `backend` over the chosen reference backends, and every test
    that asks for `target` over the chosen targets (both minus `backend_only`, which names either)."""
    marker = metafunc.definition.get_closest_marker("backend_only")
    if "backend" in metafunc.fixturenames:
        chosen = list(metafunc.config._suite_backends)  # type: ignore[attr-defined]
        if marker is not None:
            chosen = [b for b in chosen if b in marker.args]
        metafunc.parametrize("backend", chosen)
    if "target" in metafunc.fixturenames:
        targets = [t for t in metafunc.config._suite_targets  # type: ignore[attr-defined]
                   if marker is None or t.name in marker.args]
        metafunc.parametrize("target", targets, ids=[t.name for t in targets])
