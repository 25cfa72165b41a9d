"""Tagged JSON: JSON that gives back the Python types it was given.

Flask counterpart: ``flask/json/tag.py``.

The session cookie holds JSON, and plain JSON loses types: a tuple comes back
as a list, and bytes, datetimes, UUIDs and ``Markup`` are refused. The
:class:`TaggedJSONSerializer` writes each such value as a one-key dict whose
key is a *tag* naming the type, and turns it back on reading::

    >>> serializer = TaggedJSONSerializer()
    >>> serializer.dumps({"cart": (1, 2), "token": b"\\xff"})
    '{"cart":{" t":[1,2]},"token":{" b":"/w=="}}'
    >>> serializer.loads(_)
    {'cart': (1, 2), 'token': b'\\xff'}

The tags are Flask's, byte for byte, so a cookie written by one framework is
read by the other. Each tag starts with a space, which keys written by
programs rarely do; a real one-key dict whose key *is* a tag is wrapped in
``" di"`` so it is never mistaken for a tagged value.

Each type is one small :class:`JSONTag` class, and the serializer tries them
in order. A program adds a type by registering a tag of its own, for
example to keep sets in the session::

    class TagSet(JSONTag):
        key = " s"

        def check(self, value):
            return isinstance(value, set)

        def to_json(self, value):
            return [self.serializer.tag(item) for item in value]

        def to_python(self, value):
            return set(value)

    app.session_interface.serializer.register(TagSet)

Where a request meets it: ``SecureCookieSessionInterface`` uses one
serializer to read the cookie in ``open_session`` and to write it in
``save_session``.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date, parse_date

from ..perf import PLAIN
from . import dumps, loads

if TYPE_CHECKING:
    from collections.abc import Sequence


class JSONTag:
    """One type the serializer can write and read back: subclass it to add a type.

    A subclass sets :attr:`key` and implements :meth:`check`, :meth:`to_json`
    and :meth:`to_python`. :attr:`serializer` is the serializer the tag is
    registered on; use ``self.serializer.tag(item)`` to tag the items of a
    container, so that they keep their types too.

    Args:
        serializer: the :class:`TaggedJSONSerializer` the tag belongs to.
    """

    __slots__ = ("serializer",)

    #: The tag written as the one key of the JSON object, e.g. ``" t"``. An
    #: empty key marks a tag that only rewrites values and adds no key
    #: (like ``PassDict``); such a tag is never looked up when reading.
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: Any) -> bool:
        """Whether this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """Turn ``value`` into something JSON can hold (the tag is added by :meth:`tag`)."""
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        """Turn what :meth:`to_json` produced, read back from JSON, into the value."""
        raise NotImplementedError

    def tag(self, value: Any) -> Any:
        """``value`` as a tagged object: ``{key: to_json(value)}``."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """A one-key dict whose key is a registered tag: ``{" t": 1}`` must not read as a tuple.

    It is written as ``{" di": {" t__": 1}}``. The suffix matters: reading
    untags the innermost objects first, so an inner ``{" t": 1}`` would be
    turned into a tuple before the outer ``" di"`` could protect it.
    """

    __slots__ = ()
    key = " di"

    def check(self, value: Any) -> bool:
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: Any) -> Any:
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: Any) -> Any:
        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    """Any other dict: stays a dict, with its values tagged."""

    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: Any) -> Any:
        # JSON keys are strings: the keys need no tags.
        return {key: self.serializer.tag(item) for key, item in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """A tuple, written as a list under ``" t"``."""

    __slots__ = ()
    key = " t"

    def check(self, value: Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: Any) -> Any:
        return [self.serializer.tag(item) for item in value]

    def to_python(self, value: Any) -> Any:
        return tuple(value)


class PassList(JSONTag):
    """A list: stays a list, with its items tagged."""

    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: Any) -> Any:
        return [self.serializer.tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Bytes, written as base64 text under ``" b"``."""

    __slots__ = ()
    key = " b"

    def check(self, value: Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: Any) -> Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: Any) -> Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """An object with ``__html__`` (``Markup``), written as its HTML under ``" m"``.

    It reads back as :class:`~markupsafe.Markup`, so text that was marked safe
    stays safe in templates.
    """

    __slots__ = ()
    key = " m"

    def check(self, value: Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: Any) -> Any:
        return str(value.__html__())

    def to_python(self, value: Any) -> Any:
        return Markup(value)


class TagUUID(JSONTag):
    """A UUID, written as its 32 hex digits under ``" u"``."""

    __slots__ = ()
    key = " u"

    def check(self, value: Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: Any) -> Any:
        return value.hex

    def to_python(self, value: Any) -> Any:
        return UUID(value)


class TagDateTime(JSONTag):
    """A datetime, written as an HTTP date under ``" d"`` (whole seconds, in UTC)."""

    __slots__ = ()
    key = " d"

    def check(self, value: Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: Any) -> Any:
        return http_date(value)

    def to_python(self, value: Any) -> Any:
        return parse_date(value)


#: The tag classes Flask defines; none of them claims a value of `_UNTAGGED_TYPES`.
_DEFAULT_TAGS = frozenset(
    {TagDict, PassDict, TagTuple, PassList, TagBytes, TagMarkup, TagUUID, TagDateTime}
)

#: The exact types JSON holds as they are, and that no default tag claims.
_UNTAGGED_TYPES = frozenset({str, int, float, bool, type(None)})


class TaggedJSONSerializer:
    """Dumps values to compact JSON and loads them back, keeping their types.

    itsdangerous calls :meth:`dumps` and :meth:`loads` to serialise the
    session around its signature. Besides JSON's own types it keeps
    ``dict`` keys that look like tags, ``tuple``, ``bytes``, ``Markup``,
    ``UUID`` and ``datetime``; :meth:`register` adds more.
    """

    __slots__ = ("_only_default_tags", "order", "tags")

    #: The tag classes every serializer starts with, in the order they are tried.
    default_tags: Sequence[type[JSONTag]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        #: The tags that add a key, by key: what :meth:`untag` looks up.
        self.tags: dict[str, JSONTag] = {}
        #: Every tag, in the order :meth:`tag` tries them; the first match wins.
        #: Add tags with :meth:`register`, which also keeps the fast path of
        #: :meth:`tag` right.
        self.order: list[JSONTag] = []
        self._only_default_tags = True
        for tag_class in self.default_tags:
            self.register(tag_class)

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag: an instance of ``tag_class`` bound to this serializer.

        Args:
            tag_class: the :class:`JSONTag` subclass.
            force: replace a registered tag with the same key instead of failing.
            index: where to insert the tag in :attr:`order`; ``None`` appends it.
                A tag for a special case of a type another tag handles (an
                ``OrderedDict`` before ``dict``) must come before that tag.

        Raises:
            KeyError: the key is registered already and ``force`` is false.
        """
        tag = tag_class(self)
        if tag.key:
            if not force and tag.key in self.tags:
                raise KeyError(f"Tag '{tag.key}' is already registered.")
            self.tags[tag.key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)
        # A tag of the program's own may claim any type, strings included.
        self._only_default_tags = all(type(tag) in _DEFAULT_TAGS for tag in self.order)

    def tag(self, value: Any) -> Any:
        """``value`` in its tagged form: the first tag whose ``check`` accepts it, or as is."""
        # PERF: most values in a session are strings and numbers, which no
        # default tag claims, yet the loop asks all eight tags' `check` about
        # each. While only the default tags are registered such a value is
        # returned at once, with the same answer: tag("hello") took 0.07 µs
        # instead of 0.60 (CPU time, median of 11 interleaved rounds,
        # docs/perf.md). Plain version (PLAIN): the loop, always.
        if not PLAIN and type(value) in _UNTAGGED_TYPES and self._only_default_tags:
            return value
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, Any]) -> Any:
        """The value a tagged object stands for; any other dict as it is."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        if tag is None:
            return value
        return tag.to_python(value[key])

    def _untag_scan(self, value: Any) -> Any:
        """Untag a loaded document, innermost objects first."""
        if isinstance(value, dict):
            value = {key: self._untag_scan(item) for key, item in value.items()}
            # Only a one-key object can be a tagged value.
            return self.untag(value) if len(value) == 1 else value
        if isinstance(value, list):
            return [self._untag_scan(item) for item in value]
        return value

    def dumps(self, value: Any) -> str:
        """Tag ``value`` and write it as compact JSON (with the current app's settings)."""
        return dumps(self.tag(value), separators=(",", ":"))

    def loads(self, value: str | bytes) -> Any:
        """Parse JSON written by :meth:`dumps` and give back the tagged values."""
        return self._untag_scan(loads(value))
