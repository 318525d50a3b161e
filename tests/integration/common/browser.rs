//! What the browser tests share: the tools they need (Debian's Chromium, playwright-core and
//! axe-core in `.tools/node`, installed by `scripts/setup-interop.sh`), and running a node script
//! of `tests/interop/` to completion with a time limit, keeping what it printed.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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

/// What a node script did.
pub struct Run {
    pub script: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub fn describe(&self) -> String {
        format!(
            "{} exited {:?} after {:.1?}\n    stdout: {}\n    stderr: {}",
            self.script,
            self.code,
            self.took,
            cut(&self.stdout, 4000),
            cut(&self.stderr, 4000)
        )
    }

    /// The one JSON line the script prints (its last line that starts with `{`).
    pub fn json_line(&self) -> Value {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .unwrap_or("");
        serde_json::from_str(line).unwrap_or(Value::Null)
    }
}

/// At most `n` characters of `s`, trimmed, with « … » when cut.
pub fn cut(s: &str, n: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Runs `node tests/interop/SCRIPT ARGS` to completion, killed after `timeout`. Blocking: call it
/// from `spawn_blocking` so the server under test keeps serving.
pub fn run_node(script: &str, args: &[String], timeout: Duration) -> Run {
    let started = Instant::now();
    let path = Path::new(ROOT).join("tests/interop").join(script);
    let mut child = Command::new("node")
        .arg(&path)
        .args(args)
        .current_dir(ROOT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node {}: {e}", path.display()));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = started + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("wait for node") {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                timed_out = true;
                // node's own children (Chromium) exit when their pipe to node closes
                let _ = child.kill();
                break child.wait().expect("wait for the killed node");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let mut stderr = err_reader.join().unwrap_or_default();
    if timed_out {
        stderr.push_str(&format!("\n(killed after {timeout:?})"));
    }
    Run {
        script: script.to_string(),
        code: status.code(),
        stdout: out_reader.join().unwrap_or_default(),
        stderr,
        took: started.elapsed(),
    }
}
