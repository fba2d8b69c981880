//! The connection state machine of Starlette 1.10's `WebSocket`, as pure functions.
//!
//! A connection has two states: `client_state` (what the server told us) and
//! `application_state` (what the app has sent). Each `receive()`/`send()` is checked against the
//! state *before* the awaited I/O and moves it *before* the I/O too, exactly as Starlette does;
//! the caller stores the new state and then awaits the ASGI callable.

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

/// The two kinds of error Starlette raises for a wrong move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// `RuntimeError(message)`: an unexpected message type.
    Unexpected(String),
    /// `WebSocketDisconnected(message)` (a `RuntimeError` subclass): the connection is over.
    Disconnected(&'static str),
}

pub const RECEIVE_AFTER_DISCONNECT: &str =
    r#"Cannot call "receive" once a disconnect message has been received."#;
pub const SEND_AFTER_CLOSE: &str = r#"Cannot call "send" once a close message has been sent."#;
pub const NOT_CONNECTED: &str = r#"WebSocket is not connected. Need to call "accept" first."#;

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
        State::Disconnected | State::Response => {
            Err(StateError::Disconnected(RECEIVE_AFTER_DISCONNECT))
        }
    }
}

/// The client state after receiving a message of `message_type` in `phase`. `type_repr` is
/// Python's `repr()` of the type, used only in the error message.
pub fn after_receive(
    phase: ReceivePhase,
    message_type: Option<&str>,
    type_repr: &str,
) -> Result<Option<State>, StateError> {
    match (phase, message_type) {
        (ReceivePhase::Connect, Some("websocket.connect")) => Ok(Some(State::Connected)),
        (ReceivePhase::Connect, _) => Err(StateError::Unexpected(format!(
            r#"Expected ASGI message "websocket.connect", but got {type_repr}"#
        ))),
        (ReceivePhase::Stream, Some("websocket.receive")) => Ok(None),
        (ReceivePhase::Stream, Some("websocket.disconnect")) => Ok(Some(State::Disconnected)),
        (ReceivePhase::Stream, _) => Err(StateError::Unexpected(format!(
            r#"Expected ASGI message "websocket.receive" or "websocket.disconnect", but got {type_repr}"#
        ))),
    }
}

/// How a `send()` proceeds once its message type was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStep {
    /// Store this application state, then await the server's send. `oserror_is_disconnect`:
    /// an `OSError` from the server becomes `WebSocketDisconnect(1006)` (only when connected).
    Move {
        to: State,
        oserror_is_disconnect: bool,
    },
    /// A denial response body: the state becomes DISCONNECTED unless `more_body` is truthy.
    ResponseBody,
}

/// Checks a `send()` of `message_type` in `application` state.
pub fn send_step(
    application: State,
    message_type: Option<&str>,
    type_repr: &str,
) -> Result<SendStep, StateError> {
    let unexpected =
        |expected: &str| StateError::Unexpected(format!("{expected}, but got {type_repr}"));
    match application {
        State::Connecting => match message_type {
            Some("websocket.accept") => Ok(move_to(State::Connected, false)),
            Some("websocket.close") => Ok(move_to(State::Disconnected, false)),
            Some("websocket.http.response.start") => Ok(move_to(State::Response, false)),
            _ => Err(unexpected(
                r#"Expected ASGI message "websocket.accept", "websocket.close" or "websocket.http.response.start""#,
            )),
        },
        State::Connected => match message_type {
            Some("websocket.send") => Ok(move_to(State::Connected, true)),
            Some("websocket.close") => Ok(move_to(State::Disconnected, true)),
            _ => Err(unexpected(
                r#"Expected ASGI message "websocket.send" or "websocket.close""#,
            )),
        },
        State::Response => match message_type {
            Some("websocket.http.response.body") => Ok(SendStep::ResponseBody),
            _ => Err(unexpected(
                r#"Expected ASGI message "websocket.http.response.body""#,
            )),
        },
        State::Disconnected => Err(StateError::Disconnected(SEND_AFTER_CLOSE)),
    }
}

fn move_to(to: State, oserror_is_disconnect: bool) -> SendStep {
    SendStep::Move {
        to,
        oserror_is_disconnect,
    }
}

/// `receive_text`/`receive_bytes`/`receive_json` need the app to have accepted.
pub fn check_app_connected(application: State) -> Result<(), StateError> {
    if application == State::Connected {
        Ok(())
    } else {
        Err(StateError::Disconnected(NOT_CONNECTED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_then_stream_then_disconnect() {
        let phase = receive_phase(State::Connecting);
        assert_eq!(phase, Ok(ReceivePhase::Connect));
        assert_eq!(
            after_receive(ReceivePhase::Connect, Some("websocket.connect"), "''"),
            Ok(Some(State::Connected))
        );
        assert_eq!(
            after_receive(ReceivePhase::Stream, Some("websocket.receive"), "''"),
            Ok(None)
        );
        assert_eq!(
            after_receive(ReceivePhase::Stream, Some("websocket.disconnect"), "''"),
            Ok(Some(State::Disconnected))
        );
        assert_eq!(
            receive_phase(State::Disconnected),
            Err(StateError::Disconnected(RECEIVE_AFTER_DISCONNECT))
        );
    }

    #[test]
    fn unexpected_messages_quote_the_repr() {
        let err = after_receive(
            ReceivePhase::Connect,
            Some("websocket.receive"),
            "'websocket.receive'",
        );
        assert_eq!(
            err,
            Err(StateError::Unexpected(
                r#"Expected ASGI message "websocket.connect", but got 'websocket.receive'"#
                    .to_owned()
            ))
        );
        let err = send_step(State::Connected, None, "None");
        assert_eq!(
            err,
            Err(StateError::Unexpected(
                r#"Expected ASGI message "websocket.send" or "websocket.close", but got None"#
                    .to_owned()
            ))
        );
    }

    #[test]
    fn send_moves() {
        assert_eq!(
            send_step(State::Connecting, Some("websocket.accept"), ""),
            Ok(SendStep::Move {
                to: State::Connected,
                oserror_is_disconnect: false
            })
        );
        assert_eq!(
            send_step(State::Connected, Some("websocket.close"), ""),
            Ok(SendStep::Move {
                to: State::Disconnected,
                oserror_is_disconnect: true
            })
        );
        assert_eq!(
            send_step(State::Response, Some("websocket.http.response.body"), ""),
            Ok(SendStep::ResponseBody)
        );
        assert_eq!(
            send_step(State::Disconnected, Some("websocket.send"), ""),
            Err(StateError::Disconnected(SEND_AFTER_CLOSE))
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
