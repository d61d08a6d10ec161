"""`strategies.free` draws a name the machine does not hold, with bounds that never depend on its state: a
concurrent step leaves the state up to the scheduler, and Hypothesis refuses (FlakyStrategyDefinition) a
draw whose bounds differ between two runs of the same choices."""
import itertools

from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from harness import strategies as S

NAMES = ("b", "c", "d", "e")


class SchedulerDecides(RuleBasedStateMachine):
    """What a name is taken by differs from run to run, as after calls run at once: here by a counter
    outside Hypothesis, so the same choices meet a different state each time."""
    runs = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.held = set(NAMES[: next(self.runs) % len(NAMES)])
        self.used: list[str] = []

    @rule(name=S.free(NAMES, lambda m: m.held))
    def create(self, name: str) -> None:
        assert name not in self.held or self.held == set(NAMES), (name, self.held)
        self.held.add(name)
        self.used.append(name)


def test_a_free_name_is_drawn_the_same_way_whatever_the_state():
    run_state_machine_as_test(SchedulerDecides, settings=settings(max_examples=60, database=None,
                                                                  stateful_step_count=6, deadline=None))
    assert next(SchedulerDecides.runs) > 60  # every example met a state of its own
