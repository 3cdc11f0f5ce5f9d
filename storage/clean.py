"""Text every database accepts: what a crawled page may contain, PostgreSQL may refuse.

PostgreSQL rejects NUL characters in text ("A string literal cannot contain NUL (0x00)
characters") and the driver cannot encode lone UTF-16 surrogates (which ``surrogateescape``
decoding or a hostile page can produce). SQLite stores both. Cleaning every text parameter
on its way into the database, on every backend, keeps the two backends' contents equal.
Raw bytes (blobs) are never touched: only ``str`` parameters.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, event

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value


def _clean_one(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: clean_text(v) if isinstance(v, str) else v for k, v in params.items()}
    if isinstance(params, tuple | list):
        return type(params)(clean_text(v) if isinstance(v, str) else v for v in params)
    return params


def _before_cursor_execute(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> tuple[str, Any]:
    if executemany and isinstance(parameters, list | tuple):
        return statement, type(parameters)(_clean_one(p) for p in parameters)
    return statement, _clean_one(parameters)


def clean_text_parameters(engine: Engine) -> None:
    """Clean every ``str`` parameter ``engine`` sends (see :func:`clean_text`)."""
    event.listen(engine, "before_cursor_execute", _before_cursor_execute, retval=True)
