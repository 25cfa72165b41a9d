"""Flask's own tests, and popular extensions' tests, run on miniflask: ``make compat``.

A harness, not part of the framework. For each suite in :mod:`compat.suites`
it downloads the project's source distribution, runs its tests once on the
real Flask (the baseline) and once with ``import flask`` pointed at miniflask
by :func:`miniflask.install_as_flask`, and compares them test by test.

Modules, in the order a run uses them:

- :mod:`compat.suites`: what is run (pinned versions, test dependencies);
- :mod:`compat.environment`: the compat venv and the sdists under build/compat/;
- :mod:`compat.runner`: one pytest process per suite and framework;
- ``compat/plugin/``: what those processes load (the alias switch and the
  pytest plugin that records each outcome);
- :mod:`compat.scoring`: baseline against miniflask, with reasons;
- :mod:`compat.differences`: the deliberate differences, explained;
- :mod:`compat.report`: docs/compat.md and the terminal summary.
"""
