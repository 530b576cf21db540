//! Test helpers: a sandboxed environment per test, running the real `reg` binary.

#![allow(dead_code)]

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `SOURCE_DATE_EPOCH` used by tests: 2026-01-01T00:00:00Z.
pub const EPOCH: &str = "1767225600";

/// A scratch directory with its own host trust file and home, so tests never touch the real
/// host and can run in parallel.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("create temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// The library's options for this sandbox's host, as the CLI run by [`Sandbox::cmd`] takes
    /// them: its trust file and state directory, the rollback check on.
    pub fn options(&self) -> reg::OpenOptions {
        reg::OpenOptions::new(reg::repo::trust::TrustOptions::new(
            self.trust_file(),
            reg::repo::trust::HostState::new(self.join("home/.local/state/reg")),
        ))
    }

    pub fn trust_file(&self) -> PathBuf {
        self.join("host/trust.json")
    }

    /// `reg` with a clean, deterministic environment rooted in the sandbox.
    pub fn reg(&self) -> Command {
        let mut c = Command::cargo_bin("reg").expect("reg binary");
        c.current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.join("home"))
            .env("REG_TRUST_FILE", self.trust_file())
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("REG_LOCK_TIMEOUT", "5");
        c
    }

    /// Runs reg, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.reg().args(args).output().expect("run reg");
        assert!(
            out.status.success(),
            "reg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs reg, asserts it fails with `code`, returns stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.reg().args(args).output().expect("run reg");
        let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
        assert_eq!(
            out.status.code(),
            Some(code),
            "reg {args:?}: expected exit {code}, stderr: {stderr}"
        );
        stderr
    }

    /// Runs `reg ARGS`, asserts it exits `code` with `needle` in its stderr and leaves
    /// `.registry/` byte for byte as it was (a refusal writes nothing); returns stderr. For a
    /// refusal that must also leave other paths alone, or runs with another environment, see
    /// [`Sandbox::refusal`].
    pub fn refused(&self, code: i32, args: &[&str], needle: &str) -> String {
        self.refusal(code, args).says(needle)
    }

    /// A refusal of `reg ARGS` with exit `code`, to be told what else it must leave as it was
    /// before it is run by [`Refusal::says`].
    pub fn refusal(&self, code: i32, args: &[&str]) -> Refusal<'_> {
        Refusal {
            sandbox: self,
            code,
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            unchanged: Vec::new(),
            stdout_too: false,
        }
    }

    /// Promotes `model` (`name@version`) with the operator key `op.pem`.
    pub fn promote(&self, model: &str) {
        self.ok(&["promote", model, "--reason", "tested", "--key", "op.pem"]);
    }

    /// Generates a key pair `name` (and `name.pub`); returns its fingerprint.
    pub fn key(&self, name: &str) -> String {
        self.ok(&["key", "gen", name]).trim().to_string()
    }

    /// A registry in the sandbox root with a root key `root.pem`; returns the root fingerprint.
    pub fn init(&self) -> String {
        let fp = self.key("root.pem");
        self.ok(&["init", "--root-key", "root.pem"]);
        fp
    }

    /// Trusts the public key file `public` for `role`, signed by `root.pem`.
    pub fn trust(&self, public: &str, role: &str, reason: &str) {
        self.ok(&[
            "key", "trust", public, "--role", role, "--key", "root.pem", "--reason", reason,
        ]);
    }

    /// A registry with root, an operator and a publisher key.
    pub fn init_with_roles(&self) -> (String, String, String) {
        let root = self.init();
        let op = self.key("op.pem");
        let publ = self.key("pub.pem");
        self.trust("op.pem.pub", "operator", "site operator");
        self.trust("pub.pem.pub", "publisher", "model team");
        (root, op, publ)
    }

    /// Writes `files` into `m-NAME-VERSION/`, packs them as a ruleset bundle signed by
    /// `pub.pem` and adds it with `op.pem`; returns the directory's name.
    pub fn add_model(&self, name: &str, version: &str, files: &[(&str, String)]) -> String {
        let dir = format!("m-{name}-{version}");
        for (path, content) in files {
            let p = self.join(&format!("{dir}/{path}"));
            std::fs::create_dir_all(p.parent().expect("a file has a parent")).expect("mkdir");
            std::fs::write(p, content).expect("write model file");
        }
        let out = format!("{dir}.tar");
        let args = pack_args(&dir, &out, "pub.pem", name, version);
        self.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        self.ok(&["add", &out, "--key", "op.pem"]);
        dir
    }

    /// Copies the example drift observation (`examples/drift-observation.json`) to `name`.
    pub fn example_observation(&self, name: &str) {
        std::fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/drift-observation.json"
            ),
            self.join(name),
        )
        .expect("copy the example observation");
    }

    pub fn dot(&self) -> PathBuf {
        self.join(".registry")
    }

    /// Every file under `.registry/` with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(&self.dot())
    }

    /// The ledger's entry ids.
    pub fn ledger_ids(&self) -> Vec<String> {
        std::fs::read_to_string(self.dot().join("ledger"))
            .expect("read ledger")
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Runs `argv` (any program) in a pseudo-terminal with the sandbox's environment,
    /// answering each prompt that mentions "passphrase" with the next answer once the program
    /// has turned echo off; returns what the terminal showed and the exit code.
    pub fn in_pty(&self, argv: &[String], answers: &[&str]) -> (String, i32) {
        const DRIVER: &str = r#"
import os, pty, sys, json, termios, time
argv, answers = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
seen, out = 0, b""
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    while seen < len(answers) and out.lower().count(b"passphrase") > seen:
        # Answer only once the program has turned echo off, as a person typing after the
        # prompt would; answering earlier would let the terminal echo what it was sent.
        deadline = time.time() + 10
        while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < deadline:
            time.sleep(0.005)
        os.write(fd, answers[seen].encode() + b"\n")
        seen += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
        let mut c = std::process::Command::new(tool("python3", "python3"));
        for (k, v) in self.reg().get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let out = c
            .current_dir(self.path())
            .arg("-c")
            .arg(DRIVER)
            .arg(serde_json::to_string(argv).unwrap())
            .arg(serde_json::to_string(answers).unwrap())
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.code().unwrap_or(-1),
        )
    }

    pub fn object_path(&self, id: &str) -> PathBuf {
        self.dot().join("objects").join(&id[..2]).join(&id[2..])
    }
}

/// A command that must be refused, and everything it must leave byte for byte as it was: the
/// one place the suite's "refused, and nothing changed" rule is written.
pub struct Refusal<'s> {
    sandbox: &'s Sandbox,
    code: i32,
    args: Vec<String>,
    env: Vec<(String, String)>,
    unchanged: Vec<PathBuf>,
    stdout_too: bool,
}

/// What a path holds: every file under it with its bytes, or `None` when it does not exist (so
/// that a refusal which creates it shows as a change).
type PathState = Option<BTreeMap<PathBuf, Vec<u8>>>;

impl Refusal<'_> {
    /// Runs the command with `key=value` in its environment (another clock, for example).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// `path` (a file or a directory, absent or not) must also be as it was: host state, a
    /// log, a site's home.
    pub fn unchanged(mut self, path: impl Into<PathBuf>) -> Self {
        self.unchanged.push(path.into());
        self
    }

    /// The message may be on stdout (fsck reports there): the needle is looked for in stdout
    /// followed by stderr, which is what [`Refusal::says`] then returns.
    pub fn stdout_too(mut self) -> Self {
        self.stdout_too = true;
        self
    }

    fn state(&self) -> (BTreeMap<PathBuf, Vec<u8>>, Vec<PathState>) {
        let others = self
            .unchanged
            .iter()
            .map(|p| p.symlink_metadata().is_ok().then(|| snapshot(p)))
            .collect();
        (self.sandbox.snapshot(), others)
    }

    /// Runs the command; asserts its exit code, that `needle` is in its message and that the
    /// registry and every path named by [`Refusal::unchanged`] are as they were; returns the
    /// message (stderr, or stdout then stderr under [`Refusal::stdout_too`]).
    pub fn says(self, needle: &str) -> String {
        let args = &self.args;
        let before = self.state();
        let mut cmd = self.sandbox.reg();
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.args(args).output().expect("run reg");
        let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
        let message = if self.stdout_too {
            String::from_utf8(out.stdout).expect("utf-8 stdout") + &stderr
        } else {
            stderr
        };
        assert_eq!(
            out.status.code(),
            Some(self.code),
            "reg {args:?}: expected exit {}, said: {message}",
            self.code
        );
        assert!(
            message.contains(needle),
            "reg {args:?}: expected `{needle}` in: {message}"
        );
        let after = self.state();
        assert!(
            before.0 == after.0,
            "reg {args:?} was refused but changed the registry"
        );
        for (path, (b, a)) in self.unchanged.iter().zip(before.1.iter().zip(&after.1)) {
            assert!(
                b == a,
                "reg {args:?} was refused but changed {}",
                path.display()
            );
        }
        message
    }
}

/// The baseline the suite's drift observations name (the example's).
pub const BASELINE: &str =
    "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

/// A drift observation valid under `schema/drift-observation.schema.json`: `samples` samples
/// over the window `[start, end]` against [`BASELINE`], with one PSI metric `metric` of
/// `value`. A test about another field (notes, more metrics, a placeholder) sets it on the JSON.
pub fn observation(window: [&str; 2], samples: u64, metric: &str, value: f64) -> serde_json::Value {
    let [start, end] = window;
    serde_json::json!({
        "window": {"start": start, "end": end},
        "baseline": BASELINE,
        "samples": samples,
        "metrics": [{"name": metric, "kind": "psi", "value": value}]
    })
}

/// `reg ARGS` as a child process with the sandbox's environment plus `extra`, not waited for
/// (stdout and stderr piped).
pub fn spawn(s: &Sandbox, args: &[&str], extra: &[(&str, &Path)]) -> std::process::Child {
    let template = s.reg();
    let mut c = std::process::Command::new(template.get_program());
    c.env_clear().current_dir(s.path());
    for (k, v) in template.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    c.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `path` exists (a paused failpoint says it reached its step), at most a minute.
pub fn wait_for(path: &Path) {
    for _ in 0..6000 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} never appeared", path.display());
}

/// `reg bundle pack DIR -o OUT --key KEY` of a ruleset bundle named `name@version`.
pub fn pack_args(dir: &str, out: &str, key: &str, name: &str, version: &str) -> Vec<String> {
    [
        "bundle",
        "pack",
        dir,
        "-o",
        out,
        "--key",
        key,
        "--name",
        name,
        "--version",
        version,
        "--type",
        "ruleset",
        "--use",
        "detection",
        "--description",
        "rules",
    ]
    .map(String::from)
    .to_vec()
}

/// `cp -a FROM TO`: a copy with modes and times, as an operator makes one (asserted to succeed).
pub fn cp_a(from: &Path, to: &Path) {
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("run cp")
        .success();
    assert!(ok, "cp -a {} {}", from.display(), to.display());
}

/// A second site holding a copy of `from`'s registry (and its key files), with its own host
/// state, pinned to `root_fp` on its own host: a replica carried on a medium.
pub fn copy_site(from: &Sandbox, root_fp: &str) -> Sandbox {
    let to = Sandbox::new();
    for e in walkdir::WalkDir::new(from.path()) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from.path()).unwrap();
        if rel.starts_with("host") || rel.starts_with("home") {
            continue;
        }
        let dest = to.path().join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
    to.ok(&["trust", "add", root_fp]);
    to
}

/// Every file under `dir` (relative path -> bytes); directories are listed with empty content
/// and a trailing `/` so that an added empty directory shows too.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.expect("walk");
        let rel = e.path().strip_prefix(dir).expect("prefix").to_path_buf();
        if e.file_type().is_dir() {
            out.insert(rel.join(""), Vec::new());
        } else {
            out.insert(rel, std::fs::read(e.path()).expect("read"));
        }
    }
    out
}

/// Makes a read-only object writable, so that a test can tamper with it.
pub fn make_writable(p: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
}

/// Path of an external tool, or a failure that says how to install it (never a silent skip).
pub fn tool(name: &str, package: &str) -> PathBuf {
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{name}` is needed by this interop test: install it with `sudo apt-get install {package}` (.ci/run does)"
    );
}

/// The state `index/` holds, its root and every bucket (FORMAT.md §5.11), read as a forger
/// reads it: without the checkpoint's check (a format 1-4 index is one document).
pub fn read_index(dot: &Path) -> reg::state::State {
    let root = std::fs::read(dot.join("index/state.json")).expect("read index/state.json");
    let Ok(mut state) = reg::state::State::from_root(&root) else {
        let mut state: reg::state::State =
            serde_json::from_slice(&root).expect("a format 1-4 index parses");
        state.index_names();
        return state;
    };
    loop {
        let missing = state.missing(&reg::state::Needs::all());
        if missing.is_empty() {
            return state;
        }
        for (map, key) in missing {
            let path = dot
                .join("index")
                .join(map.dir())
                .join(format!("{key}.json"));
            let bytes = std::fs::read(&path).expect("read a bucket");
            state
                .load_bucket(map, &key, &bytes)
                .expect("the bucket matches its root");
        }
    }
}

/// Writes `state` into `index/` as a commit writes it (every bucket, then the root); returns
/// the root's bytes, what a checkpoint commits to.
pub fn write_index(dot: &Path, state: &reg::state::State) -> Vec<u8> {
    let files = state.clone().index_files();
    for b in &files.buckets {
        let dir = dot.join("index").join(b.map.dir());
        std::fs::create_dir_all(&dir).expect("create a bucket directory");
        std::fs::write(dir.join(format!("{}.json", b.key)), &b.bytes).expect("write a bucket");
    }
    std::fs::write(dot.join("index/state.json"), &files.root).expect("write the root");
    files.root
}

/// A state edited the way an attacker edits `index/state.json`: through its JSON. The library
/// keeps `State`'s fields private (only its rules change them), so a test that forges a state
/// does exactly what a forger can.
pub fn forge_state(
    state: &reg::state::State,
    edit: impl FnOnce(&mut serde_json::Value),
) -> reg::state::State {
    let mut v = serde_json::to_value(state).expect("a state serializes");
    edit(&mut v);
    let mut forged: reg::state::State = serde_json::from_value(v).expect("the forged state parses");
    forged.index_names();
    forged
}

/// The key `fingerprint` of a state's JSON, as `edit` leaves it after a round trip through
/// `KeyState` (so that roles stay a sorted set).
pub fn edit_key(
    v: &mut serde_json::Value,
    fingerprint: &reg::crypto::keys::Fingerprint,
    edit: impl FnOnce(&mut reg::state::KeyState),
) {
    let fp = fingerprint.to_string();
    let mut key: reg::state::KeyState =
        serde_json::from_value(v["keys"][&fp].take()).expect("the key is in the state");
    edit(&mut key);
    v["keys"][&fp] = serde_json::to_value(key).expect("a key serializes");
}

/// The entry after `state`'s head: `body` by `actor`, dated `time`.
pub fn next_entry(
    state: &reg::state::State,
    actor: &reg::crypto::keys::Fingerprint,
    time: &str,
    body: reg::format::entry::Body,
) -> reg::format::entry::Entry {
    reg::format::entry::Entry {
        header: reg::format::entry::Header {
            actor: actor.clone(),
            prev: Some(state.head()),
            registry: Some(state.registry()),
            seq: state.seq() + 1,
            time: time.into(),
        },
        body,
    }
}

/// A signed object of `kind` over `payload` whose one signature names `keyid` but is made with
/// `signer` (the two differ for a forgery): what whoever holds the medium can write.
pub fn forged_envelope(
    kind: reg::crypto::envelope::Kind,
    payload: &[u8],
    keyid: &reg::crypto::keys::Fingerprint,
    signer: &reg::crypto::keys::SecretKey,
) -> Vec<u8> {
    use reg::crypto::envelope::{Envelope, SignatureEntry, pae};
    use reg::util::encoding::b64_encode;
    let payload_type = kind.payload_type();
    let sig = signer.sign(&pae(&payload_type, payload));
    Envelope {
        payload: b64_encode(payload),
        payload_type,
        signatures: vec![SignatureEntry {
            keyid: keyid.clone(),
            sig: b64_encode(&sig),
        }],
    }
    .to_canonical()
}

/// [`forged_envelope`] of an entry, naming its `actor`.
pub fn forged_entry(
    entry: &reg::format::entry::Entry,
    signer: &reg::crypto::keys::SecretKey,
) -> Vec<u8> {
    let payload = entry.to_payload().expect("a writable entry");
    forged_envelope(entry.body.kind(), &payload, &entry.header.actor, signer)
}

/// A copy of the frozen registry `tests/fixtures/NAME` (written by an older reg, never edited)
/// with its private keys `keys` (and their `.pub`), pinned on the sandbox's host. Git keeps no
/// file mode, so the keys are made 0600 here, as reg requires of a private key.
pub fn fixture(name: &str, keys: &[&str]) -> Sandbox {
    use std::os::unix::fs::PermissionsExt as _;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let s = Sandbox::new();
    cp_a(&fixture.join("registry"), &s.dot());
    std::fs::create_dir_all(s.dot().join("tmp")).expect("recreate tmp/");
    for k in keys {
        for file in [k.to_string(), format!("{k}.pub")] {
            std::fs::copy(fixture.join(&file), s.join(&file)).expect("copy a fixture key");
        }
        std::fs::set_permissions(s.join(k), std::fs::Permissions::from_mode(0o600))
            .expect("chmod a fixture key");
    }
    let root = s.ok(&["key", "fingerprint", "root.pem"]).trim().to_string();
    s.ok(&["trust", "add", &root]);
    s
}
