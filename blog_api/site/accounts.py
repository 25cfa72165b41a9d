"""The reader site's account pages: forgot password, reset password, confirm e-mail address.

Routes (added to the ``site`` blueprint by :func:`register_account_views`)::

    GET  /forgot-password   POST /forgot-password   ask for a reset link -> 303 to /login
    GET  /reset-password?token=...                  the new-password form
    POST /reset-password                            set it -> 303 to /login
    GET  /confirm-email?token=...                   a page with a "Confirm" button
    POST /confirm-email                             confirm -> 303 to /

The reset and confirmation mails link to the two pages with a token
(``Web.mailed_link``). They run the same services as the API's
``/api/v1/auth/password-reset[/confirm]`` and ``/api/v1/auth/confirm-email``,
and every POST goes through the blueprint's CSRF and origin checks
(``views.py``), like the site's other forms.

Why the confirmation needs a button: a GET must not change anything (RFC 9110
§9.2.1). Mail scanners, link previews and browsers that prefetch open the
links in a mail; if opening the link confirmed the address, a scanner would
confirm it for whoever typed someone else's address. Only a person pressing
the button sends the POST.
"""

from __future__ import annotations

from typing import Any

import pydantic

from blog_api import errors
from blog_api.auth import RESET_ACCEPTED, limit_mail_requests
from blog_api.framework import Blueprint, Framework
from blog_api.schemas import PasswordResetIn
from blog_api.services import email_confirmations, password_resets
from blog_api.web import Web

#: Tokens are 43 characters (``secrets.token_urlsafe(32)``); the API accepts up to this.
MAX_TOKEN_LENGTH = 256


def register_account_views(bp: Blueprint, fw: Framework, web: Web) -> None:
    """Add the account pages to the site blueprint ``bp`` (see the module docstring)."""

    @bp.route("/forgot-password", methods=["GET", "POST"])
    def forgot_password() -> Any:
        if fw.request.method == "GET":
            return fw.render_template("site/forgot_password.html")
        return _request_reset(fw, web)

    @bp.route("/reset-password", methods=["GET", "POST"])
    def reset_password() -> Any:
        token = _token(fw)
        if fw.request.method == "GET":
            return fw.render_template("site/reset_password.html", token=token, problems=[])
        return _reset_password(fw, web, token)

    @bp.route("/confirm-email", methods=["GET", "POST"])
    def confirm_email() -> Any:
        token = _token(fw)
        if fw.request.method == "GET":
            return fw.render_template("site/confirm_email.html", token=token)
        return _confirm_email(fw, web, token)


def _token(fw: Framework) -> str:
    """The link's token: from the query string on GET, from the form's hidden field on POST."""
    source = fw.request.args if fw.request.method == "GET" else fw.request.form
    token = source.get("token", "")
    return token if isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH else ""


def _request_reset(fw: Framework, web: Web) -> Any:
    """Mail a reset link if the address has an account; say the same thing either way.

    Counted by the same rate limiter as the API's request for a link, under
    the same keys, so the site is no way around the API's limits.
    """
    address = fw.request.form.get("email", "").strip()
    try:
        data = PasswordResetIn.model_validate({"email": address})
    except pydantic.ValidationError:
        fw.flash("Enter the e-mail address of your account.", "error")
        return fw.render_template("site/forgot_password.html", email=address), 400
    limit_mail_requests(web, "password-reset", str(data.email))
    link = web.mailed_link("site.reset_password", "PASSWORD_RESET_TTL")
    password_resets.request_reset(web.db, str(data.email), link)
    web.db.commit()  # the link and the job that mails it, together
    fw.flash(f"{RESET_ACCEPTED}.", "info")
    return fw.redirect(fw.url_for("site.login"), 303)


def _reset_password(fw: Framework, web: Web, token: str) -> Any:
    """Set the new password with the link's token; show what was wrong otherwise.

    A password that breaks the policy shows the form again, with every
    broken rule, and the token stays usable. An unknown, used or expired
    token shows the page without a form, pointing at a new request.
    """
    new_password = fw.request.form.get("new_password", "")
    hash_method = web.config["PASSWORD_HASH_METHOD"]
    try:
        password_resets.confirm_reset(web.db, token, new_password, hash_method)
    except errors.ValidationError as e:
        web.db.rollback()
        problems = [detail["message"] for detail in e.details or []] or [e.message]
        html = fw.render_template("site/reset_password.html", token=token, problems=problems)
        return html, 400
    except errors.BadRequest as e:
        web.db.rollback()
        fw.flash(f"{e.message}.", "error")
        return fw.render_template("site/reset_password.html", token="", problems=[]), 400
    web.db.commit()
    fw.flash("Your password is changed. Log in with the new one.", "success")
    return fw.redirect(fw.url_for("site.login"), 303)


def _confirm_email(fw: Framework, web: Web, token: str) -> Any:
    """Confirm the address the link was mailed to, then go to the front page."""
    try:
        user = email_confirmations.confirm(web.db, token)
    except errors.BadRequest as e:
        web.db.rollback()
        fw.flash(f"{e.message}.", "error")
        return fw.render_template("site/confirm_email.html", token=""), 400
    address = user.email
    web.db.commit()
    fw.flash(f"Thank you: {address} is confirmed.", "success")
    return fw.redirect(fw.url_for("site.index"), 303)
