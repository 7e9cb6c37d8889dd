"""The collector's pace (shared/collector.py)."""
import gc

import pytest

from shared import collector
from shared.settings import Settings


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_a_service_collects_the_youngest_generation_at_its_setting(thresholds):
    gc.set_threshold(700, 10, 10)
    collector.pace(Settings().gc_threshold)
    assert gc.get_threshold() == (10_000, 10, 10)


def test_zero_leaves_the_interpreters_pace(thresholds):
    gc.set_threshold(700, 10, 10)
    collector.pace(Settings(gc_threshold=0).gc_threshold)
    assert gc.get_threshold() == (700, 10, 10)
