"""The test suite as a package, so that tests import shared helpers as ``tests.support.<module>``.

Every folder under tests/ has an ``__init__.py``: test modules get unique names (``tests.unit.cli.test_parse``
and ``tests.unit.parse.test_seed`` may share a base name), and pytest puts the repository root on
``sys.path``, from a checkout or a fresh clone alike.
"""
