"""Helpers shared by the tests, imported as ``tests.support.<module>``.

The modules that define fixtures (``schemas``, ``engine``, ``kafka``, ``processor``, ``samples``) are
registered once, with ``pytest_plugins`` in tests/conftest.py; the others only hold functions.
"""
