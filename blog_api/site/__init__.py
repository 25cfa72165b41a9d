"""The reader site: server-rendered HTML pages for people, beside the JSON API.

``build_site_blueprint(fw)`` (in ``views.py``) builds the ``site`` blueprint on
the framework module ``fw``, like the API's builders; ``create_app`` registers
it at ``/``. Its templates are in ``templates/site/`` and its stylesheet in
``static/``; ``security.py`` holds the framework-neutral CSRF, origin and
header logic.
"""

from blog_api.site.views import build_site_blueprint

__all__ = ["build_site_blueprint"]
