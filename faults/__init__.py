"""Fault injection: the failpoint hook the engine calls at every protocol step, and (later) plans, the
catalogue, failing primitives, crash realisation and crash-point enumeration (DESIGN.md section 5)."""
from faults.hook import Failpoints

__all__ = ["Failpoints"]
