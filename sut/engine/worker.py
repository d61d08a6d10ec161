"""A worker: one client of the database with its own handle cache. It validates every input with the
model's rules, in the model's order, before touching any store, then runs the protocol.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from model import errors as E
from model.contract import CleanupReport, Inventory
from model.rules import MAIN, check_indexed, check_key, check_name, check_record, check_value
from sut.engine import branches, data, ddl, maintenance


class Worker:
    def __init__(self, core: Any) -> None:
        self.core = core
        self.handles: dict[str, Any] = {}
        core.register(self)

    def _live(self) -> None:
        if self.core.closed:
            raise E.StorageError("the database is closed")

    # -- DDL -----------------------------------------------------------------------------------------
    def create_table(self, name: str, indexed: Iterable[str] = ()) -> None:
        check_name(name, "table")
        attrs = check_indexed(indexed)
        self._live()
        ddl.create_table(self, name, attrs)

    def drop_table(self, name: str) -> None:
        check_name(name, "table")
        self._live()
        ddl.drop_table(self, name)

    def create_index(self, table: str, attr: str) -> None:
        check_name(table, "table")
        check_name(attr, "attribute")
        self._live()
        ddl.create_index(self, table, attr)

    def create_branch(self, name: str, parent: str = MAIN) -> None:
        check_name(name, "branch")
        check_name(parent, "branch")
        self._live()
        branches.create_branch(self, name, parent)

    def delete_branch(self, name: str) -> None:
        check_name(name, "branch")
        if name == MAIN:
            raise E.InvalidName("main cannot be deleted")
        self._live()
        branches.delete_branch(self, name)

    # -- data ----------------------------------------------------------------------------------------
    def put(self, table: str, key: str, record: dict[str, Any], branch: str = MAIN) -> None:
        check_name(table, "table")
        check_name(branch, "branch")
        check_key(key)
        record = check_record(record)
        self._live()
        data.write(self, table, key, record, branch)

    def delete(self, table: str, key: str, branch: str = MAIN) -> None:
        check_name(table, "table")
        check_name(branch, "branch")
        check_key(key)
        self._live()
        data.write(self, table, key, None, branch)

    def get(self, table: str, key: str, branch: str = MAIN) -> dict[str, Any] | None:
        check_name(table, "table")
        check_name(branch, "branch")
        check_key(key)
        self._live()
        return data.get(self, table, key, branch)

    def scan(self, table: str, branch: str = MAIN) -> dict[str, dict[str, Any]]:
        check_name(table, "table")
        check_name(branch, "branch")
        self._live()
        return data.scan(self, table, branch)

    def find(self, table: str, attr: str, value: Any, branch: str = MAIN) -> frozenset[str]:
        check_name(table, "table")
        check_name(attr, "attribute")
        check_name(branch, "branch")
        check_value(value)
        self._live()
        return data.find(self, table, attr, value, branch)

    def tables(self) -> list[str]:
        self._live()
        auth = self.core.read_authority(self.handles)
        return sorted(t for t in auth.tables if auth.live(t) is not None)

    def branches(self) -> list[str]:
        self._live()
        return sorted(self.core.read_authority(self.handles).branches)

    # -- maintenance ---------------------------------------------------------------------------------
    def optimize(self) -> None:
        self._live()
        maintenance.optimize(self)

    def cleanup(self) -> CleanupReport:
        self._live()
        return maintenance.cleanup(self)

    def inventory(self) -> Inventory:
        self._live()
        return maintenance.inventory(self)
