"""A window is noisy when a watched thread handled a message in it, and only then."""

import threading

from leak_forensics.measure.traffic import Traffic


def _handle_one(lock):
    worker = threading.Thread(target=lambda: lock.__enter__() and None or lock.__exit__(
        None, None, None))
    worker.start()
    worker.join()


def test_a_window_without_messages_is_quiet():
    traffic = Traffic()
    lock = traffic.counting(threading.RLock())
    _handle_one(lock)  # before the mark: not this window's business
    traffic.mark()
    assert traffic.quiet_since_mark()


def test_a_message_handled_inside_the_window_makes_it_noisy():
    traffic = Traffic()
    lock = traffic.counting(threading.RLock())
    traffic.mark()
    _handle_one(lock)
    assert not traffic.quiet_since_mark()
    traffic.mark()
    assert traffic.quiet_since_mark()


def test_a_message_in_hand_at_either_end_makes_it_noisy():
    traffic = Traffic()
    lock = traffic.counting(threading.RLock())
    with lock:  # being handled when the window opens
        traffic.mark()
    assert not traffic.quiet_since_mark()
    traffic.mark()
    with lock:  # being handled when the window closes
        assert not traffic.quiet_since_mark()


def test_the_stand_in_still_locks():
    lock = Traffic().counting(threading.RLock())
    with lock:
        assert lock._is_owned()
        assert lock.acquire(blocking=False)  # re-entrant, as the lock it wraps
        lock.release()
    assert not lock._is_owned()
