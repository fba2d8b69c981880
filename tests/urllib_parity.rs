//! Replays tests/fixtures/urllib_cases.json (CPython 3.11 answers, written by
//! tests/fixtures/gen_urllib_cases.py) against the Rust ports of urllib.parse.
// clippy.toml's allow-*-in-tests cover #[test] functions and #[cfg(test)] modules only; this
// crate's helpers (fixture readers, reference implementations, strategies) are outside them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ferrosocket::{
    netloc_hostinfo, netloc_hostname, netloc_needs_nfkc_check, parse_qsl_latin1, parse_qsl_str,
    py_repr_str, urlencode, urlsplit, urlunsplit, SplitUrl,
};
use serde_json::Value;
use std::sync::OnceLock;

fn cases() -> &'static Value {
    static CASES: OnceLock<Value> = OnceLock::new();
    CASES.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/urllib_cases.json"
        );
        let text = std::fs::read_to_string(path).expect("read fixture");
        serde_json::from_str(&text).expect("parse fixture")
    })
}

fn list(key: &str) -> &'static [Value] {
    let v = cases()[key].as_array().expect(key);
    assert!(!v.is_empty(), "{key} has no cases");
    v
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

fn opt(v: &Value) -> Option<&str> {
    v.as_str()
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("pairs")
        .iter()
        .map(|p| (s(&p[0]).to_owned(), s(&p[1]).to_owned()))
        .collect()
}

fn latin1_bytes(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1 char"))
        .collect()
}

/// Checks the netloc accessors against a fixture case that carries their expected values.
fn check_accessors(ctx: &str, url: &SplitUrl, case: &Value) {
    let userinfo = &case["userinfo"];
    assert_eq!(
        url.userinfo(),
        (opt(&userinfo[0]), opt(&userinfo[1])),
        "userinfo {ctx}"
    );
    assert_eq!(url.username(), opt(&userinfo[0]), "username {ctx}");
    assert_eq!(url.password(), opt(&userinfo[1]), "password {ctx}");
    let hostinfo = &case["hostinfo"];
    assert_eq!(
        netloc_hostinfo(&url.netloc),
        (s(&hostinfo[0]), opt(&hostinfo[1])),
        "hostinfo {ctx}"
    );
    assert_eq!(
        netloc_hostname(&url.netloc).as_deref(),
        opt(&case["hostname"]),
        "hostname {ctx}"
    );
    match (url.port(), case.get("port_err")) {
        (Ok(port), None) => assert_eq!(port.map(u64::from), case["port"].as_u64(), "port {ctx}"),
        (Err(e), Some(msg)) => assert_eq!(e.message(), s(msg), "port error {ctx}"),
        (got, want) => panic!("port {ctx}: got {got:?}, want {want:?} / {}", case["port"]),
    }
}

#[test]
fn fixture_is_from_python_311() {
    assert!(s(&cases()["python"]).starts_with("3.11."));
}

#[test]
fn urlsplit_matches_python() {
    for case in list("urlsplit") {
        let url = s(&case["url"]);
        let ctx = format!("{url:?}");
        match (urlsplit(url), case.get("err")) {
            (Ok(got), None) => {
                let ok: Vec<&str> = case["ok"].as_array().unwrap().iter().map(s).collect();
                let have = [
                    got.scheme.as_str(),
                    got.netloc.as_str(),
                    got.path.as_str(),
                    got.query.as_str(),
                    got.fragment.as_str(),
                ];
                assert_eq!(have.as_slice(), ok.as_slice(), "urlsplit {ctx}");
                // Python raises the NFKC error only where the Rust side asks the caller to check.
                if case["nfkc_error"].as_bool().unwrap() {
                    assert!(netloc_needs_nfkc_check(&got.netloc), "nfkc {ctx}");
                }
                let geturl = urlunsplit(
                    &got.scheme,
                    &got.netloc,
                    &got.path,
                    &got.query,
                    &got.fragment,
                );
                assert_eq!(geturl, s(&case["geturl"]), "geturl {ctx}");
                check_accessors(&ctx, &got, case);
            }
            (Err(e), Some(msg)) => assert_eq!(e.message(), s(msg), "urlsplit error {ctx}"),
            (got, want) => panic!("urlsplit {ctx}: got {got:?}, want error {want:?}"),
        }
    }
}

#[test]
fn netloc_accessors_match_python() {
    for case in list("netloc") {
        let netloc = s(&case["netloc"]);
        let url = SplitUrl {
            scheme: String::new(),
            netloc: netloc.to_owned(),
            path: String::new(),
            query: String::new(),
            fragment: String::new(),
        };
        check_accessors(&format!("{netloc:?}"), &url, case);
    }
}

#[test]
fn urlunsplit_matches_python() {
    for case in list("urlunsplit") {
        let c: Vec<&str> = case["in"].as_array().unwrap().iter().map(s).collect();
        assert_eq!(
            urlunsplit(c[0], c[1], c[2], c[3], c[4]),
            s(&case["out"]),
            "{c:?}"
        );
    }
}

#[test]
fn parse_qsl_str_matches_python() {
    for case in list("parse_qsl_str") {
        let qs = s(&case["in"]);
        assert_eq!(parse_qsl_str(qs), pairs(&case["out"]), "{qs:?}");
    }
}

#[test]
fn parse_qsl_latin1_matches_python() {
    for case in list("parse_qsl_latin1") {
        let qs = latin1_bytes(s(&case["in"]));
        assert_eq!(parse_qsl_latin1(&qs), pairs(&case["out"]), "{qs:?}");
    }
}

/// `unquote(text)` is the value `parse_qsl` gives for `"=" + text` once the text's `&` and `+`
/// are written `%26` and `%2B`: escapes of ASCII bytes, so they decode to the same bytes in the
/// same places and the decoding around them is unchanged.
#[test]
fn unquote_matches_python() {
    for case in list("unquote") {
        let text = s(&case["in"]);
        let field = format!("={}", text.replace('&', "%26").replace('+', "%2B"));
        let value = parse_qsl_str(&field).pop().map(|(_, value)| value);
        assert_eq!(value.as_deref(), Some(s(&case["out"])), "{text:?}");
    }
}

/// `quote_plus(text)` is what `urlencode` writes for the key `text` with an empty value.
#[test]
fn quote_plus_matches_python() {
    for case in list("quote_plus") {
        let text = s(&case["in"]);
        let encoded = urlencode(&[(text, "")]);
        assert_eq!(encoded.strip_suffix('='), Some(s(&case["out"])), "{text:?}");
    }
}

#[test]
fn urlencode_matches_python() {
    for case in list("urlencode") {
        let input = pairs(&case["in"]);
        assert_eq!(urlencode(&input), s(&case["out"]), "{input:?}");
    }
}

/// Every code point: repr() keeps it iff Python 3.11 calls it printable.
#[test]
fn repr_printability_matches_python_for_every_code_point() {
    let ranges: Vec<(u32, u32)> = list("nonprintable_ranges")
        .iter()
        .map(|r| (r[0].as_u64().unwrap() as u32, r[1].as_u64().unwrap() as u32))
        .collect();
    let mut next = ranges.iter().peekable();
    for c in ('\u{a0}'..=char::MAX).filter(|&c| c != '"' && c != '\'') {
        let code = u32::from(c);
        while next.peek().is_some_and(|&&(_, hi)| hi < code) {
            next.next();
        }
        let printable = next.peek().is_none_or(|&&(lo, _)| lo > code);
        let kept = py_repr_str(c.encode_utf8(&mut [0; 4])).chars().count() == 3;
        assert_eq!(kept, printable, "U+{code:04X}");
    }
}

/// Every code point: `hostname` lower-cases exactly like Python 3.11 `str.lower()`.
#[test]
fn hostname_lowering_matches_python_for_every_code_point() {
    let map: std::collections::HashMap<u32, &str> = list("lower_map")
        .iter()
        .map(|e| (e[0].as_u64().unwrap() as u32, s(&e[1])))
        .collect();
    let mut netloc = String::new();
    for c in ('\0'..=char::MAX).filter(|c| !matches!(c, '@' | ':' | '[' | '%')) {
        netloc.clear();
        netloc.push(c);
        let want = map
            .get(&u32::from(c))
            .map_or_else(|| c.to_string(), |l| (*l).to_owned());
        assert_eq!(
            netloc_hostname(&netloc).as_deref(),
            Some(want.as_str()),
            "U+{:04X}",
            u32::from(c)
        );
    }
}
