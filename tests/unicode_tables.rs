//! The generated Unicode table is what its script writes: running
//! scripts/gen_nonprintable_table.py again (with CPython 3.11, Unicode 14.0.0) gives
//! src/py_str/nonprintable.rs byte for byte. The interpreter is `$PYO3_PYTHON` (the Makefile
//! points it at the venv) or else `python3`.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

#[test]
fn regenerating_the_nonprintable_table_gives_the_same_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(&python)
        .arg(root.join("scripts/gen_nonprintable_table.py"))
        .arg("--stdout")
        .output()
        .unwrap_or_else(|err| panic!("cannot run {python}: {err}"));
    assert!(
        output.status.success(),
        "{python} scripts/gen_nonprintable_table.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = std::fs::read(root.join("src/py_str/nonprintable.rs")).expect("read table");
    assert!(
        output.stdout == committed,
        "src/py_str/nonprintable.rs differs from what scripts/gen_nonprintable_table.py writes: \
         run the script again (with CPython 3.11)"
    );
}
