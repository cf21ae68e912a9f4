import pytest


@pytest.fixture(scope="session")
def catalogue():
    """Large, built once per session: outside every test's window, so not a leak."""
    return {f"SKU-{i:04d}": i for i in range(20_000)}
