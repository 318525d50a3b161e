//! Running programs from the tests, one way: the `carnet` binary as an educator would run it
//! ([`Installation`], [`Cli::new`]), and the third-party tools of `tests/interop/`
//! ([`Cli::program`]). Every run ends within a time limit and gives an [`Output`]; a run that
//! cannot start, outlives its limit, dies of a signal, or (for carnet) panics, panics in turn
//! with the command and both streams.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The badge classes carnet ships.
pub const BADGE_CLASSES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/badge-classes");
/// The `carnet` binary cargo built for these tests.
pub const CARNET: &str = env!("CARGO_BIN_EXE_carnet");
/// The default limit of a run: a debug build issuing a few hundred badges, or a tool starting a
/// browser, on a busy machine.
pub const TIME_LIMIT: Duration = Duration::from_secs(180);

/// One carnet installation in a temporary directory: its SQLite file `c.db` (unless another
/// database is named), its `keys/`, and the working directory of every run.
pub struct Installation {
    pub dir: tempfile::TempDir,
    database: Option<String>,
}

impl Installation {
    pub fn new() -> Installation {
        Installation {
            dir: tempfile::tempdir().expect("a temporary directory"),
            database: None,
        }
    }

    /// An installation whose database is `url` (a PostgreSQL schema of `common::backends`).
    pub fn with_database(url: String) -> Installation {
        Installation {
            database: Some(url),
            ..Installation::new()
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| sqlite_url(self.dir.path()))
    }

    /// `carnet` with this installation's settings, to add arguments and variables to.
    pub fn cli(&self) -> Cli {
        Cli::new(self.dir.path()).env("CARNET_DATABASE_URL", self.database_url())
    }

    /// `carnet ARGS`, run to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cli().args(args).run()
    }
}

/// The SQLite database [`Cli::new`] gives a directory.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}/c.db", dir.display())
}

/// A program to run to completion: arguments, variables, what it reads on stdin, a time limit.
#[must_use]
pub struct Cli {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    dir: PathBuf,
    stdin: Option<Vec<u8>>,
    pipe_into: Option<String>,
    time_limit: Duration,
    /// carnet itself: no `CARNET_*` variable of the test's environment, UTF-8 streams, no panic.
    carnet: bool,
}

impl Cli {
    /// `carnet`, as set up in `dir`: its database `sqlite_url(dir)`, its keys in `dir/keys`, the
    /// shipped badge classes, run from `dir`, `RUST_LOG=warn`, and `USER=camille` (whom the
    /// commands record when no `--by` is given). Nothing else: the base URL and the issuer are
    /// carnet's defaults (`http://localhost:8080`, `ime`), which the tests rely on.
    pub fn new(dir: &Path) -> Cli {
        Cli {
            program: CARNET.into(),
            args: Vec::new(),
            envs: Vec::new(),
            dir: dir.to_owned(),
            stdin: None,
            pipe_into: None,
            time_limit: TIME_LIMIT,
            carnet: true,
        }
        .env("CARNET_DATABASE_URL", sqlite_url(dir))
        .env("CARNET_KEYS_DIR", dir.join("keys"))
        .env("CARNET_BADGE_CLASSES_DIR", BADGE_CLASSES)
        .env("RUST_LOG", "warn")
        .env("USER", "camille")
    }

    /// Another program (node, python: the tools of `tests/interop/`), run from the repository
    /// root with the test's environment.
    pub fn program(program: impl AsRef<OsStr>) -> Cli {
        Cli {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            dir: PathBuf::from(ROOT),
            stdin: None,
            pipe_into: None,
            time_limit: TIME_LIMIT,
            carnet: false,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cli {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cli
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets a variable; a later value of the same variable wins.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cli {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn envs<'a>(self, vars: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> Cli {
        vars.into_iter().fold(self, |cli, (k, v)| cli.env(k, v))
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Cli {
        self.dir = dir.as_ref().to_owned();
        self
    }

    /// What the program reads on stdin (otherwise nothing: stdin is closed).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cli {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs the program with its stdout piped into a shell command, e.g. `head -n 2`: the output
    /// is that command's, the exit code the shell's.
    pub fn pipe_into(mut self, shell_command: &str) -> Cli {
        self.pipe_into = Some(shell_command.to_owned());
        self
    }

    pub fn time_limit(mut self, limit: Duration) -> Cli {
        self.time_limit = limit;
        self
    }

    /// The command line, for messages.
    fn what(&self) -> String {
        let mut what = Path::new(&self.program)
            .file_name()
            .unwrap_or(&self.program)
            .to_string_lossy()
            .into_owned();
        for arg in &self.args {
            what.push(' ');
            what.push_str(&arg.to_string_lossy());
        }
        if let Some(shell) = &self.pipe_into {
            what.push_str(" | ");
            what.push_str(shell);
        }
        what
    }

    fn command(&self) -> Command {
        let mut command = match &self.pipe_into {
            None => {
                let mut command = Command::new(&self.program);
                command.args(&self.args);
                command
            }
            Some(shell) => {
                let mut command = Command::new("sh");
                command
                    .arg("-c")
                    .arg(format!("\"$0\" \"$@\" | {shell}"))
                    .arg(&self.program)
                    .args(&self.args);
                command
            }
        };
        if self.carnet {
            for (key, _) in std::env::vars_os() {
                if key.to_string_lossy().starts_with("CARNET_") {
                    command.env_remove(key);
                }
            }
        }
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        command.current_dir(&self.dir);
        command
    }

    /// Starts the program with stdout and stderr piped and no time limit, for a test that reads
    /// it as it goes or kills it mid-way; the test waits for it.
    pub fn spawn(self) -> Child {
        let what = self.what();
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"))
    }

    /// [`Cli::run`] on tokio's blocking threads, so that a server of the test's runtime keeps
    /// serving meanwhile.
    pub async fn run_async(self) -> Output {
        tokio::task::spawn_blocking(move || self.run())
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// Runs the program to completion. Blocking: a test whose runtime serves what the program
    /// reads uses [`Cli::run_async`].
    pub fn run(self) -> Output {
        let what = self.what();
        let started = Instant::now();
        let mut child = self
            .command()
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                let hint = if self.carnet {
                    ""
                } else {
                    " (is it installed? see scripts/setup-interop.sh)"
                };
                panic!("cannot run {what}: {e}{hint}")
            });
        // Written and read by threads: a large input or output never blocks against a full pipe.
        if let (Some(bytes), Some(mut pipe)) = (self.stdin, child.stdin.take()) {
            std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let stdout = Drain::new(child.stdout.take());
        let stderr = Drain::new(child.stderr.take());
        let deadline = started + self.time_limit;
        let mut timed_out = false;
        let status = loop {
            match child.try_wait().expect("wait for the program") {
                Some(status) => break status,
                None if Instant::now() > deadline => {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().expect("wait for the killed program");
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let text = |drain: Drain, stream: &str| {
            let bytes = drain.bytes(timed_out);
            if self.carnet && !timed_out {
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| panic!("{what}: {stream} is not UTF-8: {e}"))
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let stdout = text(stdout, "stdout");
        let stderr = text(stderr, "stderr");
        let out = Output {
            what,
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
            took: started.elapsed(),
        };
        if timed_out {
            panic!(
                "`{}` ran longer than {:?}, killed{}",
                out.what,
                self.time_limit,
                out.streams()
            );
        }
        if status.code().is_none() {
            panic!(
                "`{}` ended by a signal ({status}){}",
                out.what,
                out.streams()
            );
        }
        if self.carnet && out.stderr.contains("panicked") {
            panic!("carnet panicked: {}", out.describe());
        }
        out
    }
}

/// A pipe read to its end by a thread, so that the program never blocks on a full pipe.
struct Drain {
    bytes: Arc<Mutex<Vec<u8>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Drain {
    fn new(pipe: Option<impl Read + Send + 'static>) -> Drain {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        let thread = std::thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut chunk = [0; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
        Drain { bytes, thread }
    }

    /// Everything the program wrote, once the pipe is closed. After a kill, what came within a
    /// second: a child of the killed program (`sh` running a pipeline) may hold the pipe open.
    fn bytes(self, killed: bool) -> Vec<u8> {
        if killed {
            let until = Instant::now() + Duration::from_secs(1);
            while !self.thread.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
        } else {
            let _ = self.thread.join();
        }
        std::mem::take(&mut *self.bytes.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// What a run printed, and how it ended.
pub struct Output {
    /// The command line.
    pub what: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// stdout, which must be one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.describe()))
    }

    /// The one JSON line the interop scripts print (the last line that starts with `{`); `null`
    /// when there is none.
    pub fn json_line(&self) -> Value {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .unwrap_or("");
        serde_json::from_str(line).unwrap_or(Value::Null)
    }

    /// The command, its exit code, its time and both streams, for a failure message.
    pub fn describe(&self) -> String {
        format!(
            "`{}` exited {} after {:.1?}{}",
            self.what,
            self.code,
            self.took,
            self.streams()
        )
    }

    fn streams(&self) -> String {
        format!(
            "\n    stdout: {}\n    stderr: {}",
            cut(&self.stdout, 4000),
            cut(&self.stderr, 4000)
        )
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

/// Killed at its limit, with what it printed, even though `sleep` (a child `sh` leaves behind)
/// still holds the pipes.
#[test]
#[should_panic(
    expected = "`sh -c echo started; sleep 5` ran longer than 300ms, killed\n    stdout: started\n"
)]
fn a_run_past_its_time_limit_is_killed_and_says_so() {
    let _ = Cli::program("sh")
        .args(["-c", "echo started; sleep 5"])
        .time_limit(Duration::from_millis(300))
        .run();
}

#[test]
fn a_run_reads_its_stdin_and_keeps_both_streams() {
    let out = Cli::program("sh")
        .args(["-c", "cat; echo oops >&2; exit 3"])
        .stdin("bonjour\n")
        .run();
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (3, "bonjour\n", "oops\n")
    );
    assert!(
        out.describe().contains("stdout: bonjour\n    stderr: oops"),
        "{}",
        out.describe()
    );
}
