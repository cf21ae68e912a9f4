import pytest

from streamkit.testing import Runner


@pytest.fixture
def runner():
    return Runner()
