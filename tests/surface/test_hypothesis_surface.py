"""Surface guards for the Hypothesis internals the stress workers rely on: a seeded stateful test built
with `get_state_machine_test` replays the same programs, and `MAX_SHRINKING_SECONDS` still bounds shrinking.
An upgrade that changes either fails here, not silently in a nightly run."""
from __future__ import annotations

from hypothesis import Phase, seed, settings
from hypothesis.internal.conjecture import engine
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, rule
from hypothesis import strategies as st


def _programs(seed_value: int) -> list[list[int]]:
    runs: list[list[int]] = []

    class Recorder(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            runs.append([])

        @rule(x=st.integers(0, 10**6))
        def step(self, x: int) -> None:
            runs[-1].append(x)

    config = settings(max_examples=5, stateful_step_count=5, derandomize=False, database=None,
                      phases=[Phase.generate])
    get_state_machine_test(seed(seed_value)(Recorder), settings=config)()  # as stress/worker.py seeds
    return runs


def test_a_seed_on_the_machine_class_keeps_the_example_database(tmp_path):
    """`seed()` on the test switches the database off; on the machine class it does not, so a seeded
    stress batch still saves its failures for the next run (and for a fleet sharing Redis)."""
    from hypothesis.database import DirectoryBasedExampleDatabase

    class Failing(RuleBasedStateMachine):
        @rule(x=st.integers(0, 10))
        def step(self, x: int) -> None:
            assert x < 5

    def saved(seed_the_class: bool) -> int:
        directory = tmp_path / str(seed_the_class)
        config = settings(max_examples=50, database=DirectoryBasedExampleDatabase(str(directory)),
                          derandomize=False, phases=[Phase.generate, Phase.shrink])
        test = (get_state_machine_test(seed(7)(Failing), settings=config) if seed_the_class
                else seed(7)(get_state_machine_test(Failing, settings=config)))
        try:
            test()
        except AssertionError:
            pass
        return sum(1 for p in directory.rglob("*") if p.is_file()) if directory.exists() else 0
    assert saved(seed_the_class=True) > 0
    assert saved(seed_the_class=False) == 0


def test_a_seeded_stateful_test_replays_the_same_programs():
    first = _programs(1234)
    assert first and any(first)
    assert _programs(1234) == first
    assert _programs(4321) != first


def test_the_shrinking_bound_is_a_module_setting_read_at_shrink_time():
    assert isinstance(engine.MAX_SHRINKING_SECONDS, (int, float))
    import inspect
    assert "MAX_SHRINKING_SECONDS" in inspect.getsource(engine.ConjectureRunner)
