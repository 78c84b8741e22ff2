"""Waiting for the real stack: poll with a deadline, and fail naming what was awaited."""

import time

import pytest


def wait_until(what: str, check, timeout: float = 30.0, interval: float = 0.2):
    """Poll until check() returns something truthy; fail naming what was awaited and the last value."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as error:  # noqa: BLE001 - remember it for the failure message
            last = error
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}")
