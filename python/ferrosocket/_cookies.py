"""The ``Cookie`` header parser Starlette uses for ``request.cookies``."""

from __future__ import annotations

from http import cookies as http_cookies


def cookie_parser(cookie_string: str) -> dict[str, str]:
    """Parses a ``Cookie`` header into a dict, as browsers send it rather than as RFC 6265 says.

    Same algorithm as Starlette (adapted there from Django): split on ``;``, a chunk without
    ``=`` is a value with an empty name, both sides stripped, values unquoted like Python does.
    """
    cookie_dict: dict[str, str] = {}
    for chunk in cookie_string.split(";"):
        if "=" in chunk:
            key, val = chunk.split("=", 1)
        else:
            key, val = "", chunk
        key, val = key.strip(), val.strip()
        if key or val:
            # Starlette calls the same private stdlib helper: its unquoting is the reference.
            cookie_dict[key] = http_cookies._unquote(val)  # pyright: ignore[reportPrivateUsage]
    return cookie_dict
