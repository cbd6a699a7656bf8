"""The collector is paused inside the block and left as it was found, on every path."""

from __future__ import annotations

import gc

import pytest

from pytest_ssot import gcpause


def _nested_pause_that_fails() -> None:
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner pause does not switch it back on early
        raise KeyError("boom")


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_inside_and_restored_after_even_on_errors(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(KeyError):
            _nested_pause_that_fails()
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
