"""The confirmation budget: slow suspects are repeated only within a share of test time."""

from leak_forensics.measure.budget import CHEAP_RUN, ConfirmBudget


def test_cheap_runs_are_always_afforded():
    budget = ConfirmBudget(0.0)
    assert budget.for_suspect(CHEAP_RUN / 2)()


def test_slow_run_waits_until_the_tests_have_earned_it():
    budget = ConfirmBudget(0.25)
    budget.ran(2.0)
    assert not budget.for_suspect(1.0)()  # 1 s > 25 % of 2 s
    budget.ran(4.0)
    assert budget.for_suspect(1.0)()  # 1 s <= 25 % of 6 s


def test_spent_time_counts():
    budget = ConfirmBudget(0.5)
    budget.ran(10.0)
    assert budget.for_suspect(1.0)()
    budget.spend(4.5)
    assert not budget.for_suspect(1.0)()  # 4.5 s spent + 1 s > 50 % of 10 s


def test_no_limit():
    assert ConfirmBudget(None).for_suspect(100.0)()
