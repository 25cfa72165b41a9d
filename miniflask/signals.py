"""Signals: notifications sent at fixed moments of an app's and a request's life.

Flask counterpart: ``flask/signals.py``.

Flask sends these through blinker, a small publish/subscribe library. Unlike
hooks (``before_request`` ...), a signal receiver cannot change the request or
the response: signals are for observing — logging, metrics, tests — and any
number of unrelated parts of a program may subscribe without knowing each
other. Each signal is sent with the app as sender, so a receiver can connect
to one app only: ``request_finished.connect(log_it, app)``.

The moments, in the order a request meets them:

============================  ==========================================  ==================
signal                        sent                                        extra arguments
============================  ==========================================  ==================
``appcontext_pushed``         after an app context is pushed              --
``request_started``           before ``before_request`` functions run     --
``before_render_template``    before a template renders                   template, context
``template_rendered``         after a template rendered                   template, context
``message_flashed``           when ``flash`` stores a message             message, category
``got_request_exception``     when an unhandled exception reaches         exception
                              ``handle_exception``
``request_finished``          after ``after_request`` functions ran       response
``request_tearing_down``      after ``teardown_request`` functions ran    exc
``appcontext_tearing_down``   after ``teardown_appcontext`` functions     exc
``appcontext_popped``         after the app context was popped            --
============================  ==========================================  ==================
"""

from __future__ import annotations

from blinker import Namespace

#: miniflask's own namespace: other libraries' signals of the same name do not collide.
_signals = Namespace()

template_rendered = _signals.signal("template-rendered")
before_render_template = _signals.signal("before-render-template")
request_started = _signals.signal("request-started")
request_finished = _signals.signal("request-finished")
request_tearing_down = _signals.signal("request-tearing-down")
got_request_exception = _signals.signal("got-request-exception")
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
appcontext_pushed = _signals.signal("appcontext-pushed")
appcontext_popped = _signals.signal("appcontext-popped")
message_flashed = _signals.signal("message-flashed")
