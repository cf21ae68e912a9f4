"""Tests that look like leaks to a naive before/after diff, but are not."""

import logging
import re
import threading
import time

from shop import config, orders, pricing


def test_bounded_cache(catalogue):
    for region in ("EU-1", "US-2", "EU-3"):
        assert pricing.tax_rate(region) in (0.1, 0.2)
    assert "SKU-0001" in catalogue


def test_lazy_settings():
    assert len(config.settings()) == 200


def test_regex_cache():
    assert re.match(r"^\w+-\d+$", "ABC-1234")
    assert pricing.valid_sku("ABC-1234")


def test_reference_cycle_is_collected():
    basket = orders.Basket()
    assert basket.me is basket


def test_thread_finishes_shortly_after():
    threading.Thread(target=time.sleep, args=(0.05,), name="flusher").start()


def test_logging_and_output(caplog):
    logging.getLogger("shop").warning("stock is low")
    print("some output")
    assert "stock is low" in caplog.text
