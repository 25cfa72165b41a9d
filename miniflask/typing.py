"""Type aliases shared across miniflask.

Flask counterpart: ``flask/typing.py``.

Flask's views may return many shapes of value (a string, a dict, a tuple with a
status and headers, a ``Response`` ...). Naming those shapes once here lets the
signatures elsewhere say what they accept in words a reader recognises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from werkzeug.wrappers import Response as WerkzeugResponse

#: A body a view may return: converted to a response by ``Flask.make_response``.
ResponseValue: TypeAlias = (
    "WerkzeugResponse | str | bytes | list[Any] | Mapping[str, Any] "
    "| Iterator[str] | Iterator[bytes]"
)

#: Headers given as a mapping or a list of (name, value) pairs.
HeaderValue: TypeAlias = "str | list[str] | tuple[str, ...]"
HeadersValue: TypeAlias = "Mapping[str, HeaderValue] | Sequence[tuple[str, HeaderValue]] | Any"

#: Everything a view may return: a body, optionally with a status and/or headers.
ResponseReturnValue: TypeAlias = (
    "ResponseValue | tuple[ResponseValue, HeadersValue] "
    "| tuple[ResponseValue, int] | tuple[ResponseValue, int, HeadersValue] "
    "| WSGIApplication"
)

ViewFunction: TypeAlias = Callable[..., Any]
BeforeRequestFunction: TypeAlias = Callable[[], Any]
AfterRequestFunction: TypeAlias = Callable[[Any], Any]
TeardownFunction: TypeAlias = Callable[[BaseException | None], Any]
ErrorHandler: TypeAlias = Callable[[Any], Any]
URLValuePreprocessor: TypeAlias = Callable[[str | None, dict[str, Any] | None], None]
URLDefaultsFunction: TypeAlias = Callable[[str, dict[str, Any]], None]
TemplateContextProcessor: TypeAlias = Callable[[], dict[str, Any]]
TemplateFilter: TypeAlias = Callable[..., Any]
TemplateGlobal: TypeAlias = Callable[..., Any]
TemplateTest: TypeAlias = Callable[..., bool]

#: A response class (``app.response_class`` or a subclass).
ResponseClass = TypeVar("ResponseClass", bound="WerkzeugResponse")
#: A key of the per-blueprint tables: a blueprint's name, or ``None`` for the app.
AppOrBlueprintKey: TypeAlias = str | None

# Flask's own names for the aliases above, so annotations written against
# ``flask.typing`` (extensions have them) import unchanged.
RouteCallable = ViewFunction
BeforeRequestCallable = BeforeRequestFunction
BeforeFirstRequestCallable = BeforeRequestFunction
AfterRequestCallable = AfterRequestFunction
TeardownCallable = TeardownFunction
ErrorHandlerCallable = ErrorHandler
URLValuePreprocessorCallable = URLValuePreprocessor
URLDefaultCallable = URLDefaultsFunction
TemplateContextProcessorCallable = TemplateContextProcessor
TemplateFilterCallable = TemplateFilter
TemplateGlobalCallable = TemplateGlobal
TemplateTestCallable = TemplateTest
ShellContextProcessorCallable = TemplateContextProcessor

__all__ = [
    "AfterRequestCallable",
    "AfterRequestFunction",
    "AppOrBlueprintKey",
    "BeforeFirstRequestCallable",
    "BeforeRequestCallable",
    "BeforeRequestFunction",
    "ErrorHandler",
    "ErrorHandlerCallable",
    "HeadersValue",
    "Iterable",
    "ResponseClass",
    "ResponseReturnValue",
    "ResponseValue",
    "RouteCallable",
    "ShellContextProcessorCallable",
    "TeardownCallable",
    "TeardownFunction",
    "TemplateContextProcessor",
    "TemplateContextProcessorCallable",
    "TemplateFilter",
    "TemplateFilterCallable",
    "TemplateGlobal",
    "TemplateGlobalCallable",
    "TemplateTest",
    "TemplateTestCallable",
    "URLDefaultCallable",
    "URLDefaultsFunction",
    "URLValuePreprocessor",
    "URLValuePreprocessorCallable",
    "ViewFunction",
]
