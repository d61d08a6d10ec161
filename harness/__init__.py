"""The harness: what drives an engine and judges it (DESIGN.md section 8: an installed package, not test code).

- `harness.machine`, `harness.fault_machine`: the Hypothesis stateful machines (model beside the engine);
- `harness.invariants`: the convergence invariants I1-I11 as named checks with structured results;
- `harness.crashcheck`: one trial of a program under a fault plan, and the heal phase;
- `harness.scenarios`, `harness.programs`: the seed incidents and shared operation sequences, as data;
- `harness.kill`: the mutant kill matrix; `harness.printed`: reading the program Hypothesis printed.

`tests/` holds the tests of all this; `stress/`, `benchmarks/` and `reports/` import it from here.
"""
