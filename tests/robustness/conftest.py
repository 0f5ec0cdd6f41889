"""The GUI robustness tests drive the same real window as tests/gui (its fixtures, reused)."""

from tests.gui.conftest import fresh_settings, window, window_factory  # noqa: F401
