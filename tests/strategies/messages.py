"""What the "server" does: the messages it hands to the app (receive scripts, with odd
messages and faults) and the faults its send raises."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .json_payloads import json_texts

# ---------------------------------------------------------------------------------------------
# Receive scripts (what the "server" hands to the app)
# ---------------------------------------------------------------------------------------------

texts = st.one_of(st.text(max_size=8), json_texts)
binaries = st.one_of(st.binary(max_size=8), json_texts.map(lambda t: t.encode("utf-8", "surrogatepass")))

receive_text_msgs = st.builds(lambda t: {"type": "websocket.receive", "text": t}, texts)
receive_bytes_msgs = st.builds(lambda b: {"type": "websocket.receive", "bytes": b}, binaries)
receive_text_none_bytes = st.builds(lambda t: {"type": "websocket.receive", "bytes": None, "text": t}, texts)
receive_bytes_none_text = st.builds(
    lambda b: {"type": "websocket.receive", "text": None, "bytes": b}, binaries
)


@st.composite
def disconnect_msgs(draw: st.DrawFn, *, well_formed: bool = True) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": "websocket.disconnect"}
    if well_formed or draw(st.integers(0, 3)) != 0:
        msg["code"] = draw(st.sampled_from([1000, 1001, 1005, 1006, 1011, 3000, 4001]))
    if draw(st.booleans()):
        msg["reason"] = draw(st.sampled_from([None, "", "bye", "é€"]))
    return msg


odd_receive_msgs = st.one_of(
    st.just({"type": "websocket.receive"}),  # neither text nor bytes
    st.builds(
        lambda t, b: {"type": "websocket.receive", "text": t, "bytes": b},
        st.text(max_size=3),
        st.binary(max_size=3),
    ),
    st.builds(lambda b: {"type": "websocket.receive", "text": b}, st.binary(max_size=3)),  # wrong type
    st.builds(lambda t: {"type": "websocket.receive", "bytes": t}, st.text(max_size=3)),  # wrong type
    st.just({"type": "websocket.receive", "text": None, "bytes": None}),
    st.just({"type": "websocket.http.response.start", "status": 403, "headers": []}),
    st.just({"type": "websocket.send", "text": "x"}),
    st.just({"type": "websocket.accept"}),
    st.just({"type": "http.request", "body": b""}),
    st.just({"type": "lifespan.startup"}),
    st.just({"type": "websocket.connect", "extra": 1}),
    st.just({"type": ["websocket.connect"]}),  # unhashable: Starlette compares it with != while CONNECTING
)

# Receive-side faults, placed into the script as special entries.
RECV_FAULTS = [("raise", "OSError"), ("raise", "RuntimeError"), ("cancel",)]


@st.composite
def receive_scripts(draw: st.DrawFn, *, odd: bool = True, faults: bool = False) -> list[Any]:
    script: list[Any] = []
    if draw(st.integers(0, 9)) != 0:
        script.append({"type": "websocket.connect"})
    body_kinds = [receive_text_msgs, receive_bytes_msgs, receive_text_none_bytes, receive_bytes_none_text]
    if odd:
        body_kinds.append(odd_receive_msgs)
    body_kinds.append(disconnect_msgs(well_formed=not odd))
    if odd:
        body_kinds.append(st.just({"type": "websocket.connect"}))
    if faults:
        body_kinds.append(st.sampled_from(RECV_FAULTS))
    script += draw(st.lists(st.one_of(*body_kinds), max_size=8))
    ending = draw(st.sampled_from(["disconnect", "disconnect", "exhaust"]))
    if ending == "disconnect":
        script.append(draw(disconnect_msgs(well_formed=not odd)))
    return script


# ---------------------------------------------------------------------------------------------
# Send-side behaviour (what the "server" does when the app sends)
# ---------------------------------------------------------------------------------------------

SEND_FAULTS = ["OSError", "ConnectionResetError", "RuntimeError", "cancel"]


@st.composite
def send_faults(draw: st.DrawFn, *, enabled: bool) -> dict[int, str]:
    """Map from 0-based send-call index to the fault that call raises."""
    if not enabled:
        return {}
    return draw(st.dictionaries(st.integers(0, 6), st.sampled_from(SEND_FAULTS), max_size=2))
