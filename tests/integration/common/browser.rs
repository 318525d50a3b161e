//! What the browser tests share: the tools they need (Debian's Chromium, playwright-core and
//! axe-core in `.tools/node`, installed by `scripts/setup-interop.sh`), and running a node script
//! of `tests/interop/` to completion with a time limit, keeping what it printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use super::cli::cut;
use super::cli::{Cli, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// `None` (after a visible line on stderr) when `CARNET_SKIP_INTEROP=1`; otherwise the tools must
/// be there, and the test fails saying how to install them.
pub fn tools_or_skip(test: &str) -> Option<()> {
    if std::env::var("CARNET_SKIP_INTEROP").as_deref() == Ok("1") {
        // straight to the process's stderr: libtest's capture would hide an eprintln!
        let _ = std::io::stderr().write_all(
            format!("SKIP {test}: CARNET_SKIP_INTEROP=1 (no Chromium page test)\n").as_bytes(),
        );
        return None;
    }
    let root = Path::new(ROOT);
    let needed = [
        PathBuf::from(CHROMIUM),
        root.join(".tools/node/node_modules/playwright-core/package.json"),
        root.join(".tools/node/node_modules/axe-core/axe.min.js"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "the browser page test needs Chromium and the npm packages (missing: {}): run \
         scripts/setup-interop.sh (or set CARNET_SKIP_INTEROP=1 to skip this test)",
        missing.join(", ")
    );
    Some(())
}

/// Runs `node tests/interop/SCRIPT ARGS` to completion, killed after `timeout`. Blocking: call it
/// from `spawn_blocking` so the server under test keeps serving.
pub fn run_node(script: &str, args: &[String], timeout: Duration) -> Output {
    Cli::program("node")
        .arg(Path::new(ROOT).join("tests/interop").join(script))
        .args(args)
        .time_limit(timeout)
        .run()
}
