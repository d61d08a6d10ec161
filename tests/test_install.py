"""The product installs and runs without the checkout: a non-editable install (the wheel `pip install .`
builds) into a fresh virtual environment, used from a directory outside the checkout, runs `python -m
stress` with a mutant, writes its run under that directory (never inside site-packages), and the reproducer
it wrote fails on its own there. Nothing of `tests/` is installed or needed."""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fresh_venv(tmp_path) -> str:
    """A venv with the wheel of this checkout installed, not editable. Its dependencies come from the
    running environment through a plain path line (a path line does not run that environment's .pth
    files, so the editable finder of the checkout stays off): the install needs no network."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(wheels), ROOT], check=True, capture_output=True, text=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    (wheel,) = glob.glob(str(wheels / "*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel],
                   check=True, capture_output=True, text=True)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(site, "zz_dependencies.pth"), "w", encoding="utf-8") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.mark.slow
def test_a_non_editable_install_runs_stress_and_its_reproducer_outside_the_checkout(tmp_path):
    python = _fresh_venv(tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SUITE_REPORTS_ROOT", "SUITE_RUN_ID")}
    where = subprocess.run([python, "-c", "import harness, stress, sut; print(harness.__file__, stress.__file__)"],
                           cwd=work, env=env, check=True, capture_output=True, text=True).stdout.split()
    assert all(str(tmp_path / "venv") in p for p in where), f"imported from {where}, not the installed wheel"
    tests_importable = subprocess.run([python, "-c", "import tests.test_install"], cwd=work, env=env,
                                      capture_output=True, text=True)
    assert tests_importable.returncode != 0, "the test suite was installed with the product"

    run = subprocess.run([python, "-m", "stress", "--seconds", "20", "--backends", "lmdb", "--workers", "1",
                          "--mutants", "create_lock_leak"], cwd=work, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 1, f"the mutant was not found:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    (summary_path,) = glob.glob(str(work / "reports" / "runs" / "*" / "summary.json"))
    with open(summary_path, encoding="utf-8") as f:
        summary = json.load(f)
    failure = summary["failures"][0]
    assert failure["class"] != "harness", failure
    assert failure["reproducer_fails"], failure.get("reproducer_output")
    assert not glob.glob(str(tmp_path / "venv" / "**" / "summary.json"), recursive=True), \
        "a run was written inside the installed package"

    reproducer = os.path.join(os.path.dirname(summary_path), failure["reproducer"])
    replay = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", reproducer], cwd=work,
                            env=dict(env, SUITE_REPORT="0"), capture_output=True, text=True, timeout=600)
    assert replay.returncode == 1 and "1 failed" in replay.stdout, replay.stdout[-3000:]
    assert failure["invariant"].split()[0] in replay.stdout, replay.stdout[-3000:]
