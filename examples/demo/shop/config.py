"""Settings loaded lazily, once."""

_SETTINGS: dict[str, str] | None = None


def settings() -> dict[str, str]:
    global _SETTINGS
    if _SETTINGS is None:
        _SETTINGS = {f"key{i}": "x" * 50 for i in range(200)}
    return _SETTINGS
