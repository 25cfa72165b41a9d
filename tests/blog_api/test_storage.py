"""Storage on SQLite and PostgreSQL: schema, pragmas, cascades, conflicts (blog_api/db.py).

Every test here runs on both databases; the PostgreSQL half uses a private
schema on 127.0.0.1:5432 (database ``test``) and skips if it is unreachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blog_api import create_app
from blog_api.db import create_schema, make_engine, make_session_factory
from blog_api.errors import Conflict, NotFound, Unauthorized, ValidationError
from blog_api.models import Base, Comment, Post, RefreshToken, Tag, User
from blog_api.pagination import ListRequest, SortSpec
from blog_api.schemas import PostIn, PostListQuery, RegisterIn
from blog_api.services import comments, posts, site_sessions, users
from blog_api.tokens import (
    TokenSettings,
    authenticate_access_token,
    issue_token_pair,
    rotate_refresh_token,
)

HASH = "pbkdf2:sha256:1000"
PASSWORD = "long password"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url_migrated"))
    return f"sqlite:///{tmp_path / 'instance' / 'blog.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine)() as session:
        yield session


def register(session: Session, name: str) -> User:
    data = RegisterIn(username=name, email=f"{name}@example.com", password=PASSWORD)
    return users.register(session, data, HASH)


# SQLite's reflection skips the expression indexes on lower(username) and
# lower(email) with a warning; they are checked by the case-insensitivity tests.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_every_foreign_key_and_sort_column_is_indexed(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        indexed = {ix["column_names"][0] for ix in inspector.get_indexes(table.name)}
        indexed |= {c["column_names"][0] for c in inspector.get_unique_constraints(table.name)}
        indexed |= set(inspector.get_pk_constraint(table.name)["constrained_columns"][:1])
        for fk in inspector.get_foreign_keys(table.name):
            assert fk["constrained_columns"][0] in indexed, (table.name, fk)
    post_indexes = {ix["column_names"][0] for ix in inspector.get_indexes("posts")}
    assert {"created_at", "updated_at", "status"} <= post_indexes


def test_sqlite_pragmas_are_on(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'blog.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    assert (tmp_path / "sub").is_dir()


def test_default_database_is_a_file_under_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BLOG_DATABASE_URL", raising=False)
    monkeypatch.delenv("BLOG_SECRET_KEY", raising=False)
    app = create_app("flask")
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'blog.db'}"
    assert (tmp_path / "instance" / "secret_key").is_file()
    assert create_app("flask").config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_duplicate_username_is_conflict_and_rolled_back(session: Session) -> None:
    register(session, "alice")
    with pytest.raises(Conflict):
        register(session, "alice")
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_unique_race_past_the_precheck_is_conflict(session: Session, monkeypatch: Any) -> None:
    register(session, "alice")
    monkeypatch.setattr(users, "_ensure_available", lambda *args, **kwargs: None)
    with pytest.raises(Conflict):
        register(session, "alice")
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_timestamps_come_back_as_utc(session: Session) -> None:
    user = register(session, "alice")
    session.expire_all()
    loaded = session.get(User, user.id)
    assert loaded is not None and loaded.created_at.utcoffset() is not None
    assert loaded.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_deleting_a_user_cascades_in_the_database(session: Session) -> None:
    alice, bob = register(session, "alice"), register(session, "bob")
    post = create_post(session, alice, PostIn(title="t", body="b", tags=["x"]))
    from blog_api.schemas import CommentIn

    comments.create_comment(session, session.get(Post, post["id"]), bob, CommentIn(body="hi"))
    bob_post = create_post(session, bob, PostIn(title="t2", body="b"))
    comments.create_comment(session, session.get(Post, bob_post["id"]), alice, CommentIn(body="yo"))
    users.delete_user(session, alice, alice)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Post)) == 1
    assert session.scalar(select(func.count()).select_from(Comment)) == 0


def test_keyset_pagination_on_the_database(session: Session) -> None:
    alice = register(session, "alice")
    for n in range(5):
        create_post(session, alice, PostIn(title=f"p{n}", body="b", status="published"))
    request = ListRequest(1, 2, SortSpec.parse("-created_at"), cursor="")
    seen: list[str] = []
    while True:
        page = posts.list_posts(session, None, PostListQuery(), request, "secret" * 8)
        seen += [post["title"] for post in page.items]
        if page.next_cursor is None:
            break
        request = ListRequest(1, 2, request.sort, page.next_cursor)
    assert seen == ["p4", "p3", "p2", "p1", "p0"]


def test_a_page_of_comments_comes_only_from_a_post_the_reader_may_see(session: Session) -> None:
    """One statement reads the page and its total from a visible post; a page with
    no row says whether the post may be seen (404) or how many comments it has."""
    from blog_api.schemas import CommentIn

    alice, bob = register(session, "alice"), register(session, "bob")
    draft = create_post(session, alice, PostIn(title="d", body="b"))
    for body in ("one", "two", "three"):
        comments.create_comment(
            session, session.get(Post, draft["id"]), alice, CommentIn(body=body)
        )
    empty = create_post(session, bob, PostIn(title="e", body="b", status="published"))

    def page_of(post_id: int, viewer: User | None, number: int) -> Any:
        request = ListRequest(number, 2, SortSpec.parse("created_at"))
        return comments.list_comments(session.connection(), post_id, viewer, request, "s" * 64)

    for reader in (None, bob):
        with pytest.raises(NotFound):
            page_of(draft["id"], reader, 1)
        with pytest.raises(NotFound):
            page_of(draft["id"], reader, 9)
    first, last, past = (page_of(draft["id"], alice, number) for number in (1, 2, 9))
    assert [item["body"] for item in first.items + last.items] == ["one", "two", "three"]
    assert first.total == last.total == past.total == 3 and past.items == []
    nothing = page_of(empty["id"], None, 1)
    assert nothing.items == [] and nothing.total == 0
    with pytest.raises(NotFound):
        page_of(999_999, alice, 1)


def test_text_search_is_case_insensitive(session: Session) -> None:
    alice = register(session, "alice")
    create_post(session, alice, PostIn(title="Flask Tips", body="b", status="published"))
    request = ListRequest(1, 10, SortSpec.parse("-created_at"))
    page = posts.list_posts(session, None, PostListQuery(q="flask tips"), request, "s" * 40)
    assert page.total == 1


def test_api_round_trip(database_url: str, tmp_path: Path) -> None:
    """The whole stack on this database (Flask; the web tests cover miniflask)."""
    app = create_app(
        "flask",
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "k" * 64,
            "PASSWORD_HASH_METHOD": HASH,
            "INSTANCE_PATH": str(tmp_path / "i"),
            "TESTING": True,  # no outbox dispatcher thread outliving the test's database
        },
    )
    app.extensions["blog_db"].create_all()
    client = app.test_client()
    client.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "a@example.com", "password": "long password"},
    )
    token = client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": "long password"}
    ).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    created = client.post(
        "/api/v1/posts",
        json={"title": "t", "body": "b", "tags": ["pg"], "status": "published"},
        headers=headers,
    )
    assert created.status_code == 201
    assert client.get("/api/v1/posts?tag=pg").get_json()["total"] == 1
    duplicate = client.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "b@example.com", "password": "long password"},
    )
    assert duplicate.status_code == 409
    app.extensions["blog_db"].engine.dispose()


def test_two_writers_introducing_the_same_new_tag_both_succeed(engine: Engine) -> None:
    import threading

    factory = make_session_factory(engine)
    with factory() as setup:
        author_id = register(setup, "alice").id
    first, second = factory(), factory()
    try:
        # The first writer has inserted "python" but not committed yet...
        first_author = first.get(User, author_id)
        assert first_author is not None
        first_post = PostIn(title="t", body="b", tags=["python"], status="published")
        _create_without_commit(first, first_author, first_post)
        outcome: list[Any] = []

        def second_writer() -> None:
            # ...when the second looks, finds no "python", and inserts it too:
            # it must wait for the first writer and then use its row.
            try:
                author = second.get(User, author_id)
                assert author is not None
                data = PostIn(title="t", body="b", tags=["python"], status="published")
                outcome.append(create_post(second, author, data)["tags"])
            except Exception as e:
                outcome.append(e)

        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(0.5)  # still blocked on the first writer's row or lock
        first.commit()
        thread.join(10)
        assert outcome == [["python"]]
        assert first.scalar(select(func.count()).select_from(Tag)) == 1
    finally:
        first.close()
        second.close()


def test_the_database_refuses_names_and_emails_differing_only_in_case(engine: Engine) -> None:
    """The unique indexes on lower(...) hold even for a writer that skips normalising."""
    factory = make_session_factory(engine)
    with factory() as session:
        register(session, "alice")
    for username, email in (("Alice", "other@example.com"), ("other", "ALICE@example.com")):
        with factory() as session:
            session.add(User(username=username, email=email, password_hash="x"))
            with pytest.raises(IntegrityError):
                session.commit()
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_two_registrations_differing_in_case_at_once_make_one_account(engine: Engine) -> None:
    """Both pass the availability check; the database lets exactly one commit."""
    import threading

    factory = make_session_factory(engine)
    first, second = factory(), factory()
    try:
        # The first registration has inserted "carol" but not committed yet...
        first.add(User(username="carol", email="carol@example.com", password_hash="x"))
        first.flush()
        outcome: list[Any] = []

        def second_registration() -> None:
            # ...when "CAROL" registers too: normalised to "carol", it waits for
            # the first and then fails on the unique index: a 409, not a second account.
            data = RegisterIn(username="CAROL", email="Carol@Example.com", password=PASSWORD)
            try:
                outcome.append(users.register(second, data, HASH))
            except Exception as e:
                outcome.append(e)

        thread = threading.Thread(target=second_registration)
        thread.start()
        thread.join(0.5)
        first.commit()
        thread.join(10)
        assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
    finally:
        first.close()
        second.close()
    with factory() as session:
        assert session.scalars(select(User.username)).all() == ["carol"]


def test_set_password_revokes_every_token_on_this_database(session: Session) -> None:
    alice = register(session, "alice")
    settings = TokenSettings(secret_key="k" * 64)
    laptop, phone = (
        issue_token_pair(session, alice, settings),
        issue_token_pair(session, alice, settings),
    )
    session.commit()
    users.set_password(session, alice, "a brand new passphrase", HASH)
    session.commit()
    session.expire_all()
    assert session.get(User, alice.id).token_version == 1  # type: ignore[union-attr]
    rows = session.scalars(select(RefreshToken)).all()
    assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)
    for pair in (laptop, phone):
        with pytest.raises(Unauthorized):
            rotate_refresh_token(session, pair.refresh_token, settings)
        with pytest.raises(Unauthorized):
            authenticate_access_token(session.connection(), pair.access_token, settings)
    fresh = issue_token_pair(session, alice, settings)
    session.commit()
    found = authenticate_access_token(session.connection(), fresh.access_token, settings)
    assert found[0].id == alice.id
    assert rotate_refresh_token(session, fresh.refresh_token, settings).access_token


def test_set_password_ends_every_reader_site_login(session: Session) -> None:
    alice, bob = register(session, "alice"), register(session, "bob")
    cookies = [site_sessions.start_login(session, alice, timedelta(days=1)) for _ in range(2)]
    bobs = site_sessions.start_login(session, bob, timedelta(days=1))
    users.set_password(session, alice, "a brand new passphrase", HASH)
    session.commit()
    assert [site_sessions.login_user(session, cookie) for cookie in cookies] == [None, None]
    assert site_sessions.login_user(session, bobs) is bob


def test_set_password_refuses_a_weak_password_and_changes_nothing(session: Session) -> None:
    alice = register(session, "alice")
    with pytest.raises(ValidationError):
        users.set_password(session, alice, "password1", HASH)
    session.rollback()
    assert users.authenticate(session, "ALICE", PASSWORD, HASH) is not None
    assert session.get(User, alice.id).token_version == 0  # type: ignore[union-attr]


def test_the_takeover_is_refused_on_this_database(database_url: str, tmp_path: Path) -> None:
    """The stolen-token sequence through the whole stack (Flask; test_users.py runs both)."""
    app = create_app(
        "flask",
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "k" * 64,
            "PASSWORD_HASH_METHOD": HASH,
            "INSTANCE_PATH": str(tmp_path / "i"),
            "TESTING": True,  # no outbox dispatcher thread outliving the test's database
        },
    )
    app.extensions["blog_db"].create_all()
    client = app.test_client()
    account = {"username": "Alice", "email": "Alice@Example.com", "password": PASSWORD}
    alice_id = client.post("/api/v1/auth/register", json=account).get_json()["id"]
    login = {"username": "ALICE", "password": PASSWORD}
    stolen = client.post("/api/v1/auth/login", json=login).get_json()
    thief = {"Authorization": f"Bearer {stolen['access_token']}"}
    url = f"/api/v1/users/{alice_id}"
    assert (
        client.patch(url, json={"password": "thief's password"}, headers=thief).status_code == 422
    )
    owner_login = client.post("/api/v1/auth/login", json=login).get_json()
    owner = {"Authorization": f"Bearer {owner_login['access_token']}"}
    change = {"password": "a brand new passphrase", "current_password": PASSWORD}
    changed = client.patch(url, json=change, headers=owner)
    assert changed.status_code == 200
    fresh = changed.get_json()["tokens"]
    refresh = {"refresh_token": stolen["refresh_token"]}
    assert client.post("/api/v1/auth/refresh", json=refresh).status_code == 401
    assert client.get("/api/v1/users/me", headers=thief).status_code == 401
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    app.extensions["blog_db"].engine.dispose()


def test_rows_render_exactly_as_the_pydantic_models_would(session: Session) -> None:
    # services.posts.post_json and services.comments.render build the API's
    # objects by hand; PostOut and CommentOut (the OpenAPI schemas) are the spec.
    from blog_api.schemas import CommentIn, CommentOut, PostOut

    alice, bob = register(session, "alice"), register(session, "bob")
    post = create_post(
        session, alice, PostIn(title="T", body="B", tags=["zeta", "alpha"], status="published")
    )
    created = post
    comment = comments.create_comment(
        session, session.get(Post, post["id"]), bob, CommentIn(body="hi")
    )
    session.expire_all()
    entity = session.get(Post, post["id"])
    expected = PostOut.model_validate(entity).model_dump(mode="json")
    assert created == expected  # what create_post answers, made from what it wrote
    assert posts.read_post(session, post["id"], None) == expected
    listed = posts.list_posts(
        session, None, PostListQuery(), ListRequest(1, 20, SortSpec.parse("-created_at")), "s" * 64
    )
    assert listed.items == [expected]
    expected_comment = CommentOut.model_validate(session.get(Comment, comment.id)).model_dump(
        mode="json"
    )
    assert comments.render(comments.get_comment(session, comment.id, None)) == expected_comment
    page = comments.list_comments(
        session, post["id"], None, ListRequest(1, 20, SortSpec.parse("created_at")), "s" * 64
    )
    assert page.items == [expected_comment]


def create_post(session: Session, author: User, data: PostIn) -> dict[str, Any]:
    """``posts.create_post`` on the session's connection, then the commit, as the view does."""
    post = posts.create_post(session.connection(), author, data)
    session.commit()
    return post


def _create_without_commit(session: Session, author: User, data: PostIn) -> None:
    """``posts.create_post`` without the commit (which the caller makes)."""
    posts.create_post(session.connection(), author, data)
