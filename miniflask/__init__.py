"""miniflask: Flask's core, re-implemented on Werkzeug to be read.

Every public name here is Flask's, with Flask's behaviour, so an app written
for Flask runs on miniflask by changing its imports. Start reading at
``app.py``: ``Flask.wsgi_app`` handles one request from start to finish.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from . import json as json
from .aliasing import install_as_flask as install_as_flask
from .app import Flask as Flask
from .blueprints import Blueprint as Blueprint
from .config import Config as Config
from .ctx import after_this_request as after_this_request
from .ctx import copy_current_request_context as copy_current_request_context
from .ctx import has_app_context as has_app_context
from .ctx import has_request_context as has_request_context
from .globals import current_app as current_app
from .globals import g as g
from .globals import request as request
from .globals import session as session
from .helpers import abort as abort
from .helpers import flash as flash
from .helpers import get_flashed_messages as get_flashed_messages
from .helpers import get_template_attribute as get_template_attribute
from .helpers import make_response as make_response
from .helpers import redirect as redirect
from .helpers import send_file as send_file
from .helpers import send_from_directory as send_from_directory
from .helpers import stream_with_context as stream_with_context
from .helpers import url_for as url_for
from .json import jsonify as jsonify
from .signals import appcontext_popped as appcontext_popped
from .signals import appcontext_pushed as appcontext_pushed
from .signals import appcontext_tearing_down as appcontext_tearing_down
from .signals import before_render_template as before_render_template
from .signals import got_request_exception as got_request_exception
from .signals import message_flashed as message_flashed
from .signals import request_finished as request_finished
from .signals import request_started as request_started
from .signals import request_tearing_down as request_tearing_down
from .signals import template_rendered as template_rendered
from .templating import render_template as render_template
from .templating import render_template_string as render_template_string
from .templating import stream_template as stream_template
from .templating import stream_template_string as stream_template_string
from .wrappers import Request as Request
from .wrappers import Response as Response

#: The Flask release whose behaviour miniflask reproduces, and whose test
#: suite ``make compat`` runs against it.
FLASK_VERSION = "3.1.3"


def __getattr__(name: str) -> Any:
    """``miniflask.cli`` on first use, and Flask's deprecated ``__version__``.

    Python calls this module-level ``__getattr__`` (PEP 562) only for a
    name the module does not have yet. Importing the CLI here keeps
    ``import miniflask`` free of click; importing the submodule then sets
    the attribute, so later uses are plain attribute reads.

    ``__version__`` answers as Flask 3.1's does (with a ``DeprecationWarning``),
    but with the Flask version miniflask reproduces: extensions compare it to
    choose their code path for a Flask release.
    """
    if name == "cli":
        return importlib.import_module(".cli", __name__)
    if name == "__version__":
        warnings.warn(
            "The '__version__' attribute is deprecated and will be removed in"
            " Flask 3.2. Use feature detection or"
            " 'importlib.metadata.version(\"flask\")' instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return FLASK_VERSION
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
