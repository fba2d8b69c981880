//! The connection state machine of Starlette 1.10's `WebSocket`, as pure functions.
//!
//! A connection has two states: `client_state` (what the server told us) and
//! `application_state` (what the app has sent). A receive is checked before the awaited I/O and
//! moves the client state after it; a send is checked before the awaited I/O and names the
//! application state it moves to once the server's send returned ([`SendPlan`]). The message
//! type is matched once, into [`Incoming`] or [`Outgoing`]; every error Starlette raises for a
//! wrong move is a [`StateError`], whose text is formed here.

/// `WebSocketState`: the numbers are the Python enum's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Connecting = 0,
    Connected = 1,
    Disconnected = 2,
    Response = 3,
}

impl State {
    pub fn from_value(value: u8) -> Option<State> {
        match value {
            0 => Some(State::Connecting),
            1 => Some(State::Connected),
            2 => Some(State::Disconnected),
            3 => Some(State::Response),
            _ => None,
        }
    }

    pub fn value(self) -> u8 {
        self as u8
    }
}

/// The type of a message the server handed to `receive()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    Connect,
    Receive,
    Disconnect,
}

impl Incoming {
    /// None for any other type (or a type that is not a str).
    pub fn from_type(message_type: Option<&str>) -> Option<Incoming> {
        match message_type {
            Some("websocket.connect") => Some(Incoming::Connect),
            Some("websocket.receive") => Some(Incoming::Receive),
            Some("websocket.disconnect") => Some(Incoming::Disconnect),
            _ => None,
        }
    }

    /// The client state after this message (None: unchanged).
    pub fn client_state(self) -> Option<State> {
        match self {
            Incoming::Connect => Some(State::Connected),
            Incoming::Receive => None,
            Incoming::Disconnect => Some(State::Disconnected),
        }
    }
}

/// The type of a message the app hands to `send()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outgoing {
    Accept,
    Send,
    Close,
    ResponseStart,
    ResponseBody,
}

impl Outgoing {
    /// None for any other type (or a type that is not a str).
    pub fn from_type(message_type: Option<&str>) -> Option<Outgoing> {
        match message_type {
            Some("websocket.accept") => Some(Outgoing::Accept),
            Some("websocket.send") => Some(Outgoing::Send),
            Some("websocket.close") => Some(Outgoing::Close),
            Some("websocket.http.response.start") => Some(Outgoing::ResponseStart),
            Some("websocket.http.response.body") => Some(Outgoing::ResponseBody),
            _ => None,
        }
    }
}

/// What a wrong move expected instead: the start of Starlette's `RuntimeError` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Connect,
    ReceiveOrDisconnect,
    AcceptCloseOrResponseStart,
    SendOrClose,
    ResponseBody,
}

impl Expected {
    fn text(self) -> &'static str {
        match self {
            Expected::Connect => r#"Expected ASGI message "websocket.connect""#,
            Expected::ReceiveOrDisconnect => {
                r#"Expected ASGI message "websocket.receive" or "websocket.disconnect""#
            }
            Expected::AcceptCloseOrResponseStart => {
                r#"Expected ASGI message "websocket.accept", "websocket.close" or "websocket.http.response.start""#
            }
            Expected::SendOrClose => {
                r#"Expected ASGI message "websocket.send" or "websocket.close""#
            }
            Expected::ResponseBody => r#"Expected ASGI message "websocket.http.response.body""#,
        }
    }
}

/// A move Starlette refuses. `Unexpected` is a `RuntimeError`; the others are
/// `WebSocketDisconnected` (a `RuntimeError` subclass): the connection is over for that call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// A message type that does not fit the state.
    Unexpected(Expected),
    /// `receive()` after a disconnect was received.
    ReceiveAfterDisconnect,
    /// `send()` after a close (or a whole denial response) was sent, or while a close is going out.
    SendAfterClose,
    /// `receive_text()` and the like before `accept()` (or after the app closed).
    NotConnected,
}

impl StateError {
    /// Starlette's text. `got` is Python's `repr()` of the message type: it is asked for only
    /// when [`StateError::needs_repr`] says so (a repr can run Python code).
    pub fn message(self, got: &str) -> String {
        match self {
            StateError::Unexpected(expected) => format!("{}, but got {got}", expected.text()),
            StateError::ReceiveAfterDisconnect => {
                r#"Cannot call "receive" once a disconnect message has been received."#.to_owned()
            }
            StateError::SendAfterClose => {
                r#"Cannot call "send" once a close message has been sent."#.to_owned()
            }
            StateError::NotConnected => {
                r#"WebSocket is not connected. Need to call "accept" first."#.to_owned()
            }
        }
    }

    pub fn needs_repr(self) -> bool {
        matches!(self, StateError::Unexpected(_))
    }

    /// True for the errors Starlette raises as `WebSocketDisconnected`.
    pub fn is_disconnected(self) -> bool {
        !self.needs_repr()
    }
}

/// What a `receive()` expects, decided before awaiting the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivePhase {
    /// The first message must be `websocket.connect`.
    Connect,
    /// Then `websocket.receive` or `websocket.disconnect`.
    Stream,
}

/// Checks that `receive()` may be called in `client` state.
pub fn receive_phase(client: State) -> Result<ReceivePhase, StateError> {
    match client {
        State::Connecting => Ok(ReceivePhase::Connect),
        State::Connected => Ok(ReceivePhase::Stream),
        State::Disconnected | State::Response => Err(StateError::ReceiveAfterDisconnect),
    }
}

/// Checks that a message of type `incoming` (None: any other type) fits `phase`.
pub fn after_receive(
    phase: ReceivePhase,
    incoming: Option<Incoming>,
) -> Result<Incoming, StateError> {
    match (phase, incoming) {
        (ReceivePhase::Connect, Some(Incoming::Connect)) => Ok(Incoming::Connect),
        (ReceivePhase::Connect, _) => Err(StateError::Unexpected(Expected::Connect)),
        (ReceivePhase::Stream, Some(kind @ (Incoming::Receive | Incoming::Disconnect))) => Ok(kind),
        (ReceivePhase::Stream, _) => Err(StateError::Unexpected(Expected::ReceiveOrDisconnect)),
    }
}

/// The application state a send moves to once the server's send returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// No move: a data message.
    Stay,
    /// Move to this state.
    To(State),
    /// A denial response body: DISCONNECTED, or RESPONSE while `more_body` is truthy.
    ResponseBody,
}

impl Commit {
    /// The state to commit (None: no move). `more_body`: the denial body's `more_body`.
    pub fn target(self, more_body: bool) -> Option<State> {
        match self {
            Commit::Stay => None,
            Commit::To(state) => Some(state),
            Commit::ResponseBody if more_body => Some(State::Response),
            Commit::ResponseBody => Some(State::Disconnected),
        }
    }
}

/// How a `send()` proceeds once its message type was accepted in the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPlan {
    pub kind: Outgoing,
    pub commit: Commit,
    /// An `OSError` from the server's send means the peer is gone: `WebSocketDisconnect(1006)`
    /// (Starlette: only when connected; ferrosocket: also for `accept`).
    pub oserror_is_disconnect: bool,
}

/// Checks a `send()` of `outgoing` (None: any other type) in `application` state (the state the
/// app side is in once any move already going out has been committed).
pub fn plan_send(application: State, outgoing: Option<Outgoing>) -> Result<SendPlan, StateError> {
    use Outgoing::{Accept, Close, ResponseBody, ResponseStart, Send};
    let (kind, commit, oserror_is_disconnect) = match (application, outgoing) {
        (State::Connecting, Some(Accept)) => (Accept, Commit::To(State::Connected), true),
        (State::Connecting, Some(Close)) => (Close, Commit::To(State::Disconnected), false),
        (State::Connecting, Some(ResponseStart)) => {
            (ResponseStart, Commit::To(State::Response), false)
        }
        (State::Connecting, _) => {
            return Err(StateError::Unexpected(Expected::AcceptCloseOrResponseStart))
        }
        (State::Connected, Some(Send)) => (Send, Commit::Stay, true),
        (State::Connected, Some(Close)) => (Close, Commit::To(State::Disconnected), true),
        (State::Connected, _) => return Err(StateError::Unexpected(Expected::SendOrClose)),
        (State::Response, Some(ResponseBody)) => (ResponseBody, Commit::ResponseBody, false),
        (State::Response, _) => return Err(StateError::Unexpected(Expected::ResponseBody)),
        (State::Disconnected, _) => return Err(StateError::SendAfterClose),
    };
    Ok(SendPlan {
        kind,
        commit,
        oserror_is_disconnect,
    })
}

/// `receive_text`/`receive_bytes`/`receive_json` need the app to have accepted.
pub fn check_app_connected(application: State) -> Result<(), StateError> {
    if application == State::Connected {
        Ok(())
    } else {
        Err(StateError::NotConnected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_then_stream_then_disconnect() {
        assert_eq!(receive_phase(State::Connecting), Ok(ReceivePhase::Connect));
        assert_eq!(
            after_receive(ReceivePhase::Connect, Some(Incoming::Connect)),
            Ok(Incoming::Connect)
        );
        assert_eq!(Incoming::Connect.client_state(), Some(State::Connected));
        assert_eq!(
            after_receive(ReceivePhase::Stream, Some(Incoming::Receive)),
            Ok(Incoming::Receive)
        );
        assert_eq!(Incoming::Receive.client_state(), None);
        assert_eq!(
            after_receive(ReceivePhase::Stream, Some(Incoming::Disconnect)),
            Ok(Incoming::Disconnect)
        );
        assert_eq!(
            Incoming::Disconnect.client_state(),
            Some(State::Disconnected)
        );
        assert_eq!(
            receive_phase(State::Disconnected),
            Err(StateError::ReceiveAfterDisconnect)
        );
    }

    #[test]
    fn message_types_are_matched_once() {
        assert_eq!(
            Incoming::from_type(Some("websocket.connect")),
            Some(Incoming::Connect)
        );
        assert_eq!(Incoming::from_type(Some("websocket.send")), None);
        assert_eq!(Incoming::from_type(None), None);
        assert_eq!(
            Outgoing::from_type(Some("websocket.http.response.body")),
            Some(Outgoing::ResponseBody)
        );
        assert_eq!(Outgoing::from_type(Some("websocket.receive")), None);
    }

    #[test]
    fn unexpected_messages_quote_the_repr() {
        let err = after_receive(ReceivePhase::Connect, Some(Incoming::Receive));
        assert_eq!(err, Err(StateError::Unexpected(Expected::Connect)));
        assert_eq!(
            StateError::Unexpected(Expected::Connect).message("'websocket.receive'"),
            r#"Expected ASGI message "websocket.connect", but got 'websocket.receive'"#
        );
        let err = plan_send(State::Connected, None);
        assert_eq!(err, Err(StateError::Unexpected(Expected::SendOrClose)));
        assert_eq!(
            StateError::Unexpected(Expected::SendOrClose).message("None"),
            r#"Expected ASGI message "websocket.send" or "websocket.close", but got None"#
        );
        assert!(StateError::Unexpected(Expected::ResponseBody).needs_repr());
        assert!(StateError::SendAfterClose.is_disconnected());
    }

    #[test]
    fn send_plans() {
        assert_eq!(
            plan_send(State::Connecting, Some(Outgoing::Accept)),
            Ok(SendPlan {
                kind: Outgoing::Accept,
                commit: Commit::To(State::Connected),
                oserror_is_disconnect: true
            })
        );
        assert_eq!(
            plan_send(State::Connecting, Some(Outgoing::Close)),
            Ok(SendPlan {
                kind: Outgoing::Close,
                commit: Commit::To(State::Disconnected),
                oserror_is_disconnect: false
            })
        );
        assert_eq!(
            plan_send(State::Connected, Some(Outgoing::Close)),
            Ok(SendPlan {
                kind: Outgoing::Close,
                commit: Commit::To(State::Disconnected),
                oserror_is_disconnect: true
            })
        );
        assert_eq!(
            plan_send(State::Response, Some(Outgoing::ResponseBody)).map(|p| p.commit),
            Ok(Commit::ResponseBody)
        );
        assert_eq!(
            plan_send(State::Disconnected, Some(Outgoing::Send)),
            Err(StateError::SendAfterClose)
        );
    }

    #[test]
    fn values_round_trip() {
        for v in 0..4 {
            assert_eq!(State::from_value(v).map(State::value), Some(v));
        }
        assert_eq!(State::from_value(4), None);
    }
}
