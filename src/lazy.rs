//! Lazily built values that may be asked for again while they are being built.
//!
//! `OnceLock::get_or_init` runs its initialiser inside the cell: a second request from the
//! same thread (a Python finalizer run by an allocation in the initialiser, say) waits for the
//! cell it is itself filling and hangs, and one from another thread blocks while it holds the
//! GIL the first thread needs. [`get_or_build`] builds outside the cell instead; only the move
//! of a finished value into it happens under the cell's lock.

use std::sync::OnceLock;

/// The value in `cell`, built by `build` if the cell is empty.
///
/// `build` runs outside the cell, so it may run code that asks for the same value: that code
/// builds its own, and the first value stored wins (later ones are dropped, after the cell's
/// lock was released). Errors are returned and leave the cell empty.
pub fn get_or_build<T, E>(
    cell: &OnceLock<T>,
    build: impl FnOnce() -> Result<T, E>,
) -> Result<&T, E> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = build()?;
    Ok(cell.get_or_init(move || value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn builds_once_when_empty() {
        let cell = OnceLock::new();
        let calls = Cell::new(0);
        for _ in 0..3 {
            let value = get_or_build(&cell, || {
                calls.set(calls.get() + 1);
                Ok::<_, ()>(7)
            });
            assert_eq!(value, Ok(&7));
        }
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn an_error_leaves_the_cell_empty() {
        let cell: OnceLock<i32> = OnceLock::new();
        assert_eq!(get_or_build(&cell, || Err("no")), Err("no"));
        assert!(cell.get().is_none());
        assert_eq!(get_or_build(&cell, || Ok::<_, &str>(1)), Ok(&1));
    }

    #[test]
    fn a_nested_request_builds_its_own_and_the_first_stored_wins() {
        // With `OnceLock::get_or_init` this nesting deadlocks (or panics).
        let cell = OnceLock::new();
        let outer = get_or_build(&cell, || {
            let inner = get_or_build(&cell, || Ok::<_, ()>(String::from("inner")));
            assert_eq!(inner, Ok(&String::from("inner")));
            Ok::<_, ()>(String::from("outer"))
        });
        assert_eq!(outer, Ok(&String::from("inner")));
        assert_eq!(cell.get().map(String::as_str), Some("inner"));
    }

    #[test]
    fn racing_threads_agree_on_one_value() {
        let cell = OnceLock::new();
        let shared = &cell;
        let seen: Vec<usize> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| scope.spawn(move || get_or_build(shared, || Ok::<_, ()>(i)).copied()))
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().ok())
                .filter_map(Result::ok)
                .collect()
        });
        assert_eq!(seen.len(), 8);
        assert!(seen.iter().all(|v| Some(v) == cell.get()));
    }
}
