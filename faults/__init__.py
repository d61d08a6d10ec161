"""Fault injection (DESIGN.md section 5): failpoints at every protocol step, fault plans, failing
primitives, crash realisation in process and by real process death, and crash-point enumeration.

    from faults import FaultPlan, SimulatedCrash, CATALOGUE
"""
from faults.catalogue import CATALOGUE, Failpoint, register
from faults.hook import Failpoints
from faults.plan import FaultPlan, InjectedError, PointFault, PrimitiveFault, SimulatedCrash

__all__ = ["CATALOGUE", "Failpoint", "register", "Failpoints", "FaultPlan", "InjectedError",
           "PointFault", "PrimitiveFault", "SimulatedCrash"]
