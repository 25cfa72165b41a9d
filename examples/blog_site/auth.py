"""Logging in and out: the session remembers the user, ``flash`` says what happened."""

from __future__ import annotations

from types import ModuleType
from typing import Any


def build_auth_blueprint(fw: ModuleType) -> Any:
    """The ``auth`` blueprint: ``/auth/login`` (GET form, POST) and ``/auth/logout``.

    Its templates are in its own folder, ``auth_templates/``, searched after
    the app's ``templates/``. The extra ``auth/`` level inside that folder
    keeps the names apart: ``auth/login.html`` cannot clash with the app's.
    """
    auth = fw.Blueprint("auth", __name__, url_prefix="/auth", template_folder="auth_templates")

    @auth.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if fw.request.method == "POST":
            name = fw.request.form.get("name", "").strip()
            if not name:
                fw.flash("Please enter a name.", "error")
                return fw.render_template("auth/login.html"), 400
            # A fresh session on login, so nothing from before carries over.
            fw.session.clear()
            fw.session["user"] = name
            fw.session.permanent = "remember" in fw.request.form
            fw.flash(f"Welcome, {name}!", "success")
            return fw.redirect(fw.request.args.get("next") or fw.url_for("index"))
        return fw.render_template("auth/login.html")

    @auth.post("/logout")
    def logout() -> Any:
        fw.session.pop("user", None)
        fw.flash("You are logged out.", "info")
        return fw.redirect(fw.url_for("index"))

    return auth
