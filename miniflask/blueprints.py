"""Blueprints: a group of routes, hooks and handlers registered on an app as one.

Flask counterpart: ``flask/blueprints.py`` and ``flask/sansio/blueprints.py``.

A blueprint looks like a small app — it has ``route``, ``before_request``,
``errorhandler`` ... — but it is only a *recording*. Nothing happens until
``app.register_blueprint(bp)``; then :meth:`Blueprint.register` replays the
recording on the app:

1. each recorded function (``deferred_functions``) is called with a
   :class:`BlueprintSetupState`, which knows the URL prefix, subdomain and
   name for *this* registration, so routes become app rules named
   ``"bp.endpoint"`` under ``url_prefix``;
2. the blueprint's hooks and error handlers are copied into the app's
   tables under the blueprint's name, so they run only for its requests;
3. nested blueprints are registered in turn, with the prefixes combined and
   dotted names (``"parent.child.endpoint"``);
4. its ``cli`` commands, if it has any, join the app's ``app.cli``.

Because it is a recording, one blueprint may be registered several times
(under different ``name=``s), and a library can ship one without an app.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from functools import update_wrapper
from typing import TYPE_CHECKING, Any

from .package import PackageFiles
from .registry import F, Registry, registering_decorator, setupmethod

if TYPE_CHECKING:
    from .app import Flask
    from .typing import ViewFunction

DeferredSetupFunction = Callable[["BlueprintSetupState"], None]

#: ``cli_group``'s default: the commands go in a group named after the blueprint.
#: (``None`` is a real value: no group, the commands join the app's own.)
_NAMED_AFTER_BLUEPRINT: Any = object()


class BlueprintSetupState:
    """One registration of a blueprint on an app: what its deferred functions see.

    Attributes:
        app: the app being set up.
        blueprint: the blueprint being registered.
        options: the keyword arguments given to ``register_blueprint``.
        first_registration: ``True`` the first time this blueprint meets this
            app; ``record_once`` functions run only then.
    """

    def __init__(
        self, blueprint: Blueprint, app: Flask, options: dict[str, Any], first_registration: bool
    ) -> None:
        self.app = app
        self.blueprint = blueprint
        self.options = options
        self.first_registration = first_registration

        subdomain = options.get("subdomain")
        self.subdomain: str | None = blueprint.subdomain if subdomain is None else subdomain
        url_prefix = options.get("url_prefix")
        self.url_prefix: str | None = blueprint.url_prefix if url_prefix is None else url_prefix
        self.name: str = options.get("name", blueprint.name)
        self.name_prefix: str = options.get("name_prefix", "")
        self.url_defaults: dict[str, Any] = dict(blueprint.url_values_defaults)
        self.url_defaults.update(options.get("url_defaults", ()))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ViewFunction | None = None,
        **options: Any,
    ) -> None:
        """Add a blueprint route to the app: prefixed rule, dotted endpoint, merged defaults."""
        if self.url_prefix is not None:
            rule = (
                "/".join((self.url_prefix.rstrip("/"), rule.lstrip("/")))
                if rule
                else (self.url_prefix)
            )
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            assert view_func is not None, "expected view func if endpoint is not provided."
            endpoint = view_func.__name__
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = dict(defaults, **options.pop("defaults"))
        self.app.add_url_rule(
            rule,
            f"{self.name_prefix}.{self.name}.{endpoint}".lstrip("."),
            view_func,
            defaults=defaults,
            **options,
        )


class Blueprint(PackageFiles, Registry):
    """A set of routes and hooks to register on an app, under a name and URL prefix.

    Example::

        bp = Blueprint("auth", __name__, url_prefix="/auth")

        @bp.post("/login")
        def login(): ...

        app.register_blueprint(bp)     # endpoint "auth.login", URL /auth/login

    Args:
        name: the blueprint's name, the prefix of its endpoints (no dots).
        import_name: the module's ``__name__``, to find its folders.
        static_folder: a static folder of its own (served under ``static_url_path``).
        static_url_path: URL of the static folder (default ``/<folder name>``,
            under ``url_prefix``).
        template_folder: a template folder, searched after the app's.
        url_prefix: prepended to every route.
        subdomain: the subdomain its routes match (with ``subdomain_matching``).
        url_defaults: default values for its routes' URL variables.
        root_path: override the folder found from ``import_name``.
        cli_group: the name of the group its ``cli`` commands get under the
            app's (default: the blueprint's name); ``None`` adds them to the
            app's commands directly.
    """

    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _NAMED_AFTER_BLUEPRINT,
    ) -> None:
        super().__init__(import_name, static_folder, static_url_path, template_folder, root_path)
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        self.url_values_defaults: dict[str, Any] = url_defaults or {}
        self.deferred_functions: list[DeferredSetupFunction] = []
        self._blueprints: list[tuple[Blueprint, dict[str, Any]]] = []
        self.cli_group = cli_group

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the blueprint"
                f" '{self.name}'. It has already been registered at least once, any"
                " changes will not be applied consistently.\n"
                "Make sure all imports, decorators, functions, etc. needed to set up"
                " the blueprint are done before registering it."
            )

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Remember ``func(state)`` to run at every registration of this blueprint."""
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Like :meth:`record`, but only at the first registration on an app."""

        def wrapper(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(update_wrapper(wrapper, func))

    def make_setup_state(
        self, app: Flask, options: dict[str, Any], first_registration: bool = False
    ) -> BlueprintSetupState:
        """The :class:`BlueprintSetupState` handed to deferred functions."""
        return BlueprintSetupState(self, app, options, first_registration)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Nest ``blueprint`` in this one; it is registered when this one is.

        Its endpoints become ``"this.that.endpoint"`` and its URL prefix is
        appended to this blueprint's. Options are those of
        ``Flask.register_blueprint``.
        """
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself")
        self._blueprints.append((blueprint, options))

    def register(self, app: Flask, options: dict[str, Any]) -> None:
        """Replay this blueprint on ``app`` (``app.register_blueprint`` calls this).

        Raises:
            ValueError: the name is taken; pass ``name=`` to register a
                blueprint a second time.
        """
        self_name = options.get("name", self.name)
        name = f"{options.get('name_prefix', '')}.{self_name}".lstrip(".")
        if name in app.blueprints:
            which = "this" if app.blueprints[name] is self else "a different"
            existing_at = f" '{name}'" if self_name != name else ""
            raise ValueError(
                f"The name '{self_name}' is already registered for"
                f" {which} blueprint{existing_at}. Use 'name=' to"
                " provide a unique name."
            )

        first_registration = not any(bp is self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_registration)

        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,
                endpoint="static",
            )
        self._merge_blueprint_funcs(app, name)
        for deferred in self.deferred_functions:
            deferred(state)
        self._register_cli_commands(app, name, options)
        for child, child_options in self._blueprints:
            child.register(app, self._child_options(state, child, child_options, name))

    @staticmethod
    def _child_options(
        state: BlueprintSetupState, child: Blueprint, options: dict[str, Any], name: str
    ) -> dict[str, Any]:
        """A nested blueprint's options: subdomains and URL prefixes joined to ours."""
        options = dict(options)
        subdomain = options.get("subdomain")
        if subdomain is None:
            subdomain = child.subdomain
        if state.subdomain is not None and subdomain is not None:
            options["subdomain"] = f"{subdomain}.{state.subdomain}"
        elif subdomain is not None or state.subdomain is not None:
            options["subdomain"] = subdomain if subdomain is not None else state.subdomain

        url_prefix = options.get("url_prefix")
        if url_prefix is None:
            url_prefix = child.url_prefix
        if state.url_prefix is not None and url_prefix is not None:
            options["url_prefix"] = f"{state.url_prefix.rstrip('/')}/{url_prefix.lstrip('/')}"
        elif url_prefix is not None or state.url_prefix is not None:
            options["url_prefix"] = url_prefix if url_prefix is not None else state.url_prefix

        options["name_prefix"] = name
        return options

    def _register_cli_commands(self, app: Flask, name: str, options: dict[str, Any]) -> None:
        """Add this blueprint's ``cli`` commands to ``app.cli``, as a group or one by one.

        The group is named by ``cli_group`` (from ``register_blueprint``'s
        options, else the constructor's), by default the blueprint's full
        name: ``miniflask students create``. With ``cli_group=None`` the
        commands join the app's: ``miniflask create``. A blueprint without
        commands adds nothing, not even an empty group.
        """
        # The cached property keeps the group in __dict__ once read. Never
        # read means no commands, and no reason to import click.
        if "cli" not in self.__dict__ or not self.cli.commands:
            return
        group = options.get("cli_group", self.cli_group)
        if group is None:
            app.cli.commands.update(self.cli.commands)
            return
        self.cli.name = name if group is _NAMED_AFTER_BLUEPRINT else group
        app.cli.add_command(self.cli)

    def _merge_blueprint_funcs(self, app: Flask, name: str) -> None:
        """Copy hooks and handlers into the app's tables, under the blueprint's name."""

        def scoped(key: str | None) -> str:
            return name if key is None else f"{name}.{key}"

        def extend(ours: dict[str | None, list[Any]], theirs: dict[str | None, list[Any]]) -> None:
            for key, functions in ours.items():
                theirs.setdefault(scoped(key), []).extend(functions)

        for key, handlers_by_code in self.error_handler_spec.items():
            app.error_handler_spec[scoped(key)] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in handlers_by_code.items()}
            )
        # `@bp.endpoint("name")` views keep the bare endpoint name, as in
        # Flask: they serve a rule the app (not the blueprint) added.
        app.view_functions.update(self.view_functions)
        extend(self.before_request_funcs, app.before_request_funcs)
        extend(self.after_request_funcs, app.after_request_funcs)
        extend(self.teardown_request_funcs, app.teardown_request_funcs)
        extend(self.url_default_functions, app.url_default_functions)
        extend(self.url_value_preprocessors, app.url_value_preprocessors)
        extend(self.template_context_processors, app.template_context_processors)

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ViewFunction | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Record a route; it is added to the app, prefixed, at registration."""
        if endpoint and "." in endpoint:
            raise ValueError("'endpoint' may not contain a dot '.' character.")
        if view_func and "." in getattr(view_func, "__name__", ""):
            raise ValueError("'view_func' name may not contain a dot '.' character.")
        self.record(
            lambda state: state.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )
        )

    # The ``app_*`` variants apply to every request of the app, not only this
    # blueprint's: a blueprint-shipped extension can install app-wide hooks.

    @setupmethod
    def before_app_request(self, f: F) -> F:
        """Like ``app.before_request``: runs before every request of the app."""
        self.record_once(lambda s: s.app.before_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def after_app_request(self, f: F) -> F:
        """Like ``app.after_request``: runs after every request of the app."""
        self.record_once(lambda s: s.app.after_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def teardown_app_request(self, f: F) -> F:
        """Like ``app.teardown_request``: runs at the end of every request of the app."""
        self.record_once(lambda s: s.app.teardown_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_context_processor(self, f: F) -> F:
        """Like ``app.context_processor``: for every template of the app."""
        self.record_once(lambda s: s.app.template_context_processors[None].append(f))
        return f

    @setupmethod
    def app_errorhandler(self, code: type[Exception] | int) -> Callable[[F], F]:
        """Like ``app.errorhandler``: handles errors from every request of the app."""

        def decorator(f: F) -> F:
            self.record_once(lambda s: s.app.register_error_handler(code, f))
            return f

        return decorator

    @setupmethod
    def app_url_value_preprocessor(self, f: F) -> F:
        """Like ``app.url_value_preprocessor``."""
        self.record_once(lambda s: s.app.url_value_preprocessors.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_url_defaults(self, f: F) -> F:
        """Like ``app.url_defaults``."""
        self.record_once(lambda s: s.app.url_default_functions.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Like ``app.template_filter``."""
        return registering_decorator(self.add_app_template_filter, name)

    @setupmethod
    def add_app_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_filter`."""
        self.record_once(lambda s: s.app.add_template_filter(f, name=name))

    @setupmethod
    def app_template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Like ``app.template_test``."""
        return registering_decorator(self.add_app_template_test, name)

    @setupmethod
    def add_app_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_test`."""
        self.record_once(lambda s: s.app.add_template_test(f, name=name))

    @setupmethod
    def app_template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Like ``app.template_global``."""
        return registering_decorator(self.add_app_template_global, name)

    @setupmethod
    def add_app_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_global`."""
        self.record_once(lambda s: s.app.add_template_global(f, name=name))
