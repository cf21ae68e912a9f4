"""pytest-leak-forensics: find the tests that leak memory and name the code responsible."""

from __future__ import annotations

__version__ = "0.1.0"

from .cleanup import register_cleanup, unregister_cleanup  # noqa: E402

__all__ = ["__version__", "register_cleanup", "unregister_cleanup"]
