"""The opt-in confirmation budget: repetitions within a share of the tests' own time."""

from leak_forensics.measure.budget import ConfirmBudget
from leak_forensics.settings import Settings


def test_there_is_no_budget_by_default_so_verdicts_do_not_depend_on_timing():
    assert Settings().budget is None
    assert ConfirmBudget(Settings().budget).for_suspect(1e9)()


def test_slow_run_waits_until_the_tests_have_earned_it():
    budget = ConfirmBudget(0.25)
    budget.ran(2.0)
    assert not budget.for_suspect(1.0)()  # 1 s > 25 % of 2 s
    budget.ran(4.0)
    assert budget.for_suspect(1.0)()  # 1 s <= 25 % of 6 s


def test_the_cap_is_a_ratio_of_run_times_so_a_slower_machine_decides_the_same():
    for slowdown in (1.0, 2.0, 7.5):
        budget = ConfirmBudget(0.25)
        budget.ran(4.0 * slowdown)
        assert not budget.for_suspect(1.1 * slowdown)()  # 1.1 of 4 is over 25 %
        budget.ran(2.0 * slowdown)
        assert budget.for_suspect(1.1 * slowdown)()  # 1.1 of 6 is not


def test_spent_time_counts():
    budget = ConfirmBudget(0.5)
    budget.ran(10.0)
    assert budget.for_suspect(1.0)()
    budget.spend(4.5)
    assert not budget.for_suspect(1.0)()  # 4.5 s spent + 1 s > 50 % of 10 s
