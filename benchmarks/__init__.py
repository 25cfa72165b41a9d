"""Benchmarks: miniflask against Flask 3.1, with raw Werkzeug and a bare WSGI function as floors.

Run everything with ``make bench`` (quick) or ``make bench ARGS=--full``; see
``benchmarks/README.md`` for what each benchmark measures and its control.

Modules:

* ``apps``: the scenario app (one builder for both frameworks) and the two floors.
* ``peers``: the same simple scenarios on Bottle and Falcon.
* ``floors``: hand-written floors of the blog API's reads and writes (issue 14).
* ``scenarios``: the in-process scenarios, one prepared request each and its apps.
* ``inprocess``: direct WSGI calls, interleaved rounds, median µs/request.
* ``blogdb``: one seeded SQLite database (and PostgreSQL schema) for the blog API scenarios.
* ``http_load``: the blog API under gunicorn, loaded by wrk (named so it does not
  shadow the standard library's ``http`` package when a file here is run directly).
* ``footprint``: idle worker RSS and import time.
* ``report``: docs/benchmarks.md, from benchmarks/results/*.json; ``charts``: its PNG charts.
* ``stats``: medians and spreads shared by all of them.
"""
