"""Point the name ``flask`` at miniflask in every Python process of a compat run.

Python imports a module named ``sitecustomize`` at start-up, if one is on the
path. The harness puts this folder on ``PYTHONPATH`` for the test runs only,
so this file runs first in the pytest process *and* in each subprocess a test
starts (Flask-Migrate's tests run the ``flask`` command). With
``COMPAT_MINIFLASK=1`` it calls :func:`miniflask.install_as_flask`, and from
then on ``import flask``, ``flask.cli`` included, gives miniflask. Without it
the process sees the real Flask: that is the baseline run.
"""

from __future__ import annotations

import os

if os.environ.get("COMPAT_MINIFLASK") == "1":
    import miniflask

    miniflask.install_as_flask()
