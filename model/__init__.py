"""The specification: the contract (API, errors, input rules) and the pure reference model.

A leaf package: it imports nothing from sut, faults, tests or reports, and does no I/O.
"""
from model import errors
from model.contract import CleanupReport, Database, Inventory, Worker
from model.ops import Op
from model.possible import PossibleStates, TooManyStates, Violation
from model.state import State
from model.step import Outcome, step

__all__ = [
           "CleanupReport",
           "Database",
           "Inventory",
           "Op",
           "Outcome",
           "PossibleStates",
           "State",
           "TooManyStates",
           "Violation",
           "Worker",
           "errors",
           "step",
]
