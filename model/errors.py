"""The contract's error hierarchy.

Every call on a database or worker ends in one of three ways (Jepsen's outcomes): it returns (ok), it
raises a `ContractError` that is certain not to have applied (fail), or it dies in a way the caller cannot
classify (indeterminate). `StorageError` sits in between: the backend failed, and the operation either did
not take effect or will be completed by recovery; the model declares per operation which of those states a
`StorageError` may leave (see `model.step.ERROR_OUTCOMES`).
"""
from __future__ import annotations


class ContractError(Exception):
    """Base of every error the contract defines."""


class InvalidName(ContractError):
    """A table, attribute or branch name breaks the name rule, or is reserved (`__*`, deleting `main`)."""


class InvalidRecord(ContractError):
    """A record or a value breaks the record rule."""


class InvalidKey(InvalidRecord):
    """A key breaks the key rule. A subclass of `InvalidRecord`: the design names that error for bad keys."""


class NoSuchTable(ContractError):
    """The table does not exist (or is being dropped: a tombstoned table is invisible)."""


class TableExists(ContractError):
    """A live table of that name exists already."""


class NoSuchBranch(ContractError):
    """The branch (or the parent named for a new branch) does not exist."""


class BranchExists(ContractError):
    """A branch of that name exists already (`main` always does)."""


class BranchInUse(ContractError):
    """The branch has live children and cannot be deleted."""


class NoSuchIndex(ContractError):
    """The attribute is not indexed on that table."""


class IndexExists(ContractError):
    """The index exists and is ready; creating it again is an error (a not-ready one is resumed instead)."""


class IndexNotReady(ContractError):
    """The index exists but its backfill has not completed: never a partial answer."""


class Conflict(ContractError):
    """A concurrent change won a race (a lock or a compare-and-swap); retrying may succeed."""


class StorageError(ContractError):
    """The backend failed. The operation did not take effect, or recovery will complete it."""


class InjectedError(StorageError):
    """A `StorageError` raised by a fault plan, so a test can tell a planned failure from a real one."""


ALL_ERRORS: tuple[type[ContractError], ...] = (
    ContractError, InvalidName, InvalidRecord, InvalidKey, NoSuchTable, TableExists, NoSuchBranch,
    BranchExists, BranchInUse, NoSuchIndex, IndexExists, IndexNotReady, Conflict, StorageError,
    InjectedError,
)
