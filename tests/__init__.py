"""emotune's tests: a package, so every helper is imported as ``tests.<module>`` (fixtures live in ``conftest.py``)."""
