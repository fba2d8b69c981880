"""Hypothesis strategies for the differential tests (ferrosocket against tests/reference.py).

Everything here produces plain data (dicts, lists, tuples, str, bytes, ints), so each side of a
comparison can get its own ``copy.deepcopy`` of the same example.  Scopes stay inside what ASGI
allows (str paths, bytes query strings, iterables of (bytes, bytes) headers); the edge cases are in
the values, which is where Starlette's behaviour is easy to get wrong.

Import from the module that generates what a test needs:

- ``scopes``: raw header names and values (hosts, cookies), paths, query strings, servers and
  clients, ASGI websocket scopes with the fake session/router/app they can carry, and the
  WebSocket properties the scope tests read.
- ``datastructures``: inputs for Headers, MutableHeaders, QueryParams and URL (lookup keys, header
  mappings and mutable operations, query-params inputs, URL strings, components, replace kwargs).
- ``json_payloads``: JSON scalars, values, edge values and texts, and ``materialise_json``.
- ``messages``: what the "server" hands to the app (receive, disconnect and odd messages, receive
  scripts) and the faults its send raises.
- ``operations``: the app's operation scripts for the differential websocket tests, their scopes,
  and the "plain" cases outside every documented difference.

The normalisation and comparison helpers (``Differ``, ``norm``, ``diff_settings``...) are not
strategies: they live in ``tests/differential.py``.
"""
