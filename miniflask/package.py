"""Where an app's or a blueprint's files are: root path, static files, templates.

Flask counterpart: the path half of ``Scaffold`` in ``flask/sansio/scaffold.py``,
plus ``send_static_file``, ``get_send_file_max_age`` and ``open_resource``,
which Flask writes twice, in ``flask/app.py`` and ``flask/blueprints.py`` (they
read files, so they stay out of ``sansio/``), and ``get_root_path`` from
``flask/helpers.py``.

``Flask(__name__)`` and ``Blueprint("auth", __name__)`` both take the
module's ``__name__`` and look for files next to it: the ``static`` folder
served under ``/static``, the ``templates`` folder, anything read with
``open_resource("schema.sql")``. :class:`PackageFiles` holds that part once
for both classes: ``root_path`` (the folder of ``import_name``), the static
folder and its URL, the view serving its files, and the Jinja loader of its
template folder.

Flask keeps the folders in ``Scaffold`` together with the decorators;
miniflask keeps the decorators in ``registry.py``, because *where are my
files?* and *what functions did I record?* are two concepts a reader can
learn apart: neither class uses the other's attributes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import timedelta
from functools import cached_property
from typing import Any, cast

from jinja2 import FileSystemLoader


class PackageFiles:
    """The folders of an app or blueprint, found from the module that made it.

    Mixed into :class:`~miniflask.Flask` and :class:`~miniflask.Blueprint`
    beside :class:`~miniflask.registry.Registry`.

    Example::

        app = Flask(__name__)            # root_path: this module's folder
        app.static_folder                # ".../static", served at /static
        with app.open_resource("schema.sql") as f: ...

    Args:
        import_name: the module's ``__name__``; locates ``root_path``.
        static_folder: folder of static files, relative to ``root_path``.
        static_url_path: URL prefix of static files (default: ``/<folder name>``).
        template_folder: folder of templates, relative to ``root_path``.
        root_path: override the folder found from ``import_name``.
    """

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        self.template_folder = template_folder
        self.root_path = root_path if root_path is not None else get_root_path(import_name)
        # The constructor arguments of Flask and Blueprint that are about
        # files end here; the next class in the MRO (Registry, whose tables
        # need no argument) sets up the rest.
        super().__init__()

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, or ``None``."""
        if self._static_folder is not None:
            return os.path.join(self.root_path, self._static_folder)
        return None

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        """``True`` when a static folder is configured (it need not exist yet)."""
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix static files are served under, e.g. ``/static``."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is not None:
            basename = os.path.basename(self.static_folder)
            return f"/{basename}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    def send_static_file(self, filename: str) -> Any:
        """The view behind the ``static`` endpoint: a file from :attr:`static_folder`."""
        from .helpers import send_from_directory

        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(self.static_folder, filename, max_age=max_age)  # type: ignore[arg-type]

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Seconds browsers may cache a static file (``SEND_FILE_MAX_AGE_DEFAULT``).

        The default ``None`` sends no max-age: browsers revalidate with a
        conditional request and get a cheap 304 while the file is unchanged.
        """
        from .globals import current_app

        value = current_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return int(value)

    @cached_property
    def jinja_loader(self) -> FileSystemLoader | None:
        """A loader for :attr:`template_folder`, or ``None`` without one."""
        if self.template_folder is not None:
            return FileSystemLoader(os.path.join(self.root_path, self.template_folder))
        return None

    def open_resource(self, resource: str, mode: str = "rb", encoding: str | None = None) -> Any:
        """Open a file relative to :attr:`root_path` for reading (e.g. ``schema.sql``)."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)


def get_root_path(import_name: str) -> str:
    """The folder of the module or package ``import_name`` (templates, static files live there)."""
    module = sys.modules.get(import_name)
    filename = getattr(module, "__file__", None)
    if filename:
        return os.path.dirname(os.path.abspath(filename))
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin in (None, "namespace", "built-in"):
        # An interactive session or a namespace package: nothing better than the cwd.
        return os.getcwd()
    return os.path.dirname(os.path.abspath(spec.origin))


def folder_containing_package(import_name: str) -> str:
    """The folder holding the app's top-level module or package (the cwd if unknown).

    ``Flask.auto_find_instance_path`` puts the ``instance`` folder there.
    """
    top_level = import_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top_level)
    except (ImportError, ValueError):  # not importable, or a script's `__main__`
        spec = None
    if spec is None:
        return os.getcwd()
    if spec.submodule_search_locations:
        # A package: step out of its folder. (A namespace package spread over
        # several folders uses its first one; Flask picks the one holding
        # `import_name`.)
        return os.path.dirname(spec.submodule_search_locations[0])
    return os.path.dirname(cast(str, spec.origin))


def install_prefix(folder: str) -> str | None:
    """The install prefix when ``folder`` is inside Python's installation, else ``None``."""
    prefix = os.path.abspath(sys.prefix)
    if os.path.commonpath([prefix, os.path.abspath(folder)]) == prefix:
        return prefix
    parent, name = os.path.split(folder)
    if name.lower() != "site-packages":
        return None
    # <prefix>/lib/site-packages or <prefix>/lib/pythonX.Y/site-packages
    for candidate in (parent, os.path.dirname(parent)):
        if os.path.basename(candidate).lower() == "lib":
            return os.path.dirname(candidate)
    return parent
