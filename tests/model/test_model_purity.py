"""model/ is a pure leaf (DESIGN.md section 2): it imports nothing from sut, faults, harness, tests, reports or
stress, no I/O module and no storage backend, never calls open(), and importing it loads none of those."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "model"
PROJECT = {"sut", "faults", "harness", "tests", "reports", "stress", "benchmarks", "conftest"}
BACKENDS = {"lmdb", "rocksdict", "lance", "pyarrow"}
IO = {"os", "io", "pathlib", "shutil", "subprocess", "socket", "tempfile", "glob", "fcntl", "mmap", "sqlite3",
      "multiprocessing", "threading", "signal", "select", "urllib", "http", "ftplib", "pickle", "shelve",
      "importlib", "ctypes", "builtins", "fileinput", "logging"}
FORBIDDEN = PROJECT | BACKENDS | IO
BUILTIN_CALLS = {"open", "__import__", "exec", "eval", "compile", "input", "breakpoint"}
METHOD_CALLS = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "fdopen", "system", "popen"}


def offences(source: str, filename: str = "<src>") -> list[str]:
    """Every forbidden import or call in `source`, as 'line: what'."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 1:
                found.append(f"{node.lineno}: relative import reaching above model/")
            modules = [node.module or ""] if node.level == 0 else []
        for m in modules:
            if m.split(".")[0] in FORBIDDEN:
                found.append(f"{getattr(node, 'lineno', '?')}: import {m}")
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id in BUILTIN_CALLS) or (
                    isinstance(f, ast.Attribute) and f.attr in METHOD_CALLS):
                found.append(f"{node.lineno}: call {ast.unparse(f)}()")
    return found


def model_files() -> list[Path]:
    return sorted(MODEL.rglob("*.py"))


def test_the_model_package_is_where_we_look():
    names = {p.name for p in model_files()}
    assert {"__init__.py", "errors.py", "rules.py", "step.py", "possible.py", "state.py", "ops.py"} <= names


@pytest.mark.parametrize("path", model_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_model_file_imports_nothing_forbidden_and_does_no_io(path):
    assert offences(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize("source", [
    "import os", "import os.path", "from os import path", "import sut", "from sut.engine import x",
    "import faults.plan", "from harness import machine", "import reports", "import lmdb", "import lance",
    "from rocksdict import Rdict", "import io", "from pathlib import Path", "import shutil",
    "import subprocess",
    "import socket", "import importlib", "import logging", "import threading", "from .. import sut",
    "open('x')", "builtins.open('x')", "p.open()", "__import__('os')", "eval('1')", "Path('x').read_text()",
])
def test_the_checker_catches_each_kind_of_offence(source):
    assert offences(source) != [], source


def test_the_checker_accepts_what_the_model_legitimately_uses():
    ok = ("from __future__ import annotations\nimport re\nfrom dataclasses import dataclass\n"
          "from model.fmap import FMap\nfrom . import errors\nfrom typing import Any\n"
          "from collections.abc import Mapping\nx = re.compile('a')\ny = open\n")  # a reference is no call
    assert offences(ok) == []


def test_importing_model_loads_no_project_io_or_backend_module():
    probe = ("import sys, json; import model, model.step, model.possible, model.contract; "
             "print(json.dumps([sorted(sys.modules), model.__file__]))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    loaded, where = json.loads(done.stdout)
    assert Path(where).resolve() == (MODEL / "__init__.py").resolve()
    tops = {m.split(".")[0] for m in loaded}
    assert "model" in tops
    assert tops & (PROJECT | BACKENDS) == set(), sorted(tops & (PROJECT | BACKENDS))
