//! The load gate: only bytes that are an artifact of an approved model pass, the precise scope
//! (`--slot`, `--model`) is enforced, every decision can be logged in a hash chain, and the
//! library hands out exactly the bytes it hashed.

use crate::util::Sandbox;
use std::fs;

/// Models: det@1.0.0 (PROMOTED, active in slot `ransomware`), det@2.0.0 (PROMOTED, not active),
/// new@1.0.0 (REGISTERED), old@1.0.0 (REVOKED), legacy@1.0.0 (DEPRECATED).
fn setup() -> Sandbox {
    let s = Sandbox::new();
    s.init_with_roles();
    for name in ["det-1", "det-2", "new", "old", "legacy"] {
        fs::create_dir(s.join(name)).unwrap();
        fs::write(
            s.join(&format!("{name}/weights.safetensors")),
            safetensors(name),
        )
        .unwrap();
        let (model, version) = match name {
            "det-1" => ("det", "1.0.0"),
            "det-2" => ("det", "2.0.0"),
            other => (other, "1.0.0"),
        };
        s.ok(&[
            "bundle",
            "pack",
            name,
            "-o",
            &format!("{name}.tar"),
            "--key",
            "pub.pem",
            "--name",
            model,
            "--version",
            version,
            "--type",
            "DL",
            "--use",
            "classification",
            "--description",
            "d",
        ]);
        s.ok(&["add", &format!("{name}.tar"), "--key", "op.pem"]);
    }
    for args in [
        &["promote", "det@1.0.0", "--reason", "ok"][..],
        &["promote", "det@2.0.0", "--reason", "ok"],
        &["activate", "ransomware", "det@1.0.0", "--reason", "live"],
        &["revoke", "old@1.0.0", "--reason", "poisoned"],
        &["promote", "legacy@1.0.0", "--reason", "ok"],
        &["deprecate", "legacy@1.0.0", "--reason", "old"],
    ] {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--key", "op.pem"]);
        s.ok(&a);
    }
    s
}

fn safetensors(tag: &str) -> Vec<u8> {
    let header =
        format!("{{\"{tag}\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}}}");
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&[1u8; 8]);
    out
}

fn check(s: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let mut a = vec!["check"];
    a.extend_from_slice(args);
    let out = s.reg().args(&a).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn approved_files_pass_and_everything_else_is_denied() {
    let s = setup();
    let (code, out, _) = check(&s, &["det-1/weights.safetensors"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("ALLOW") && out.contains("(det@1.0.0)"),
        "{out}"
    );

    // A modified copy of an allowed file.
    let mut bytes = fs::read(s.join("det-1/weights.safetensors")).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    fs::write(s.join("copy.safetensors"), bytes).unwrap();
    let (code, out, _) = check(&s, &["copy.safetensors"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("DENY") && out.contains("no artifact of any registered model"),
        "{out}"
    );

    let (code, out, _) = check(&s, &["new/weights.safetensors"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("its model is REGISTERED, not approved"),
        "{out}"
    );
    let (code, out, _) = check(&s, &["old/weights.safetensors"]);
    assert_eq!(code, 1);
    assert!(out.contains("its model is REVOKED"), "{out}");

    let (code, out, err) = check(&s, &["legacy/weights.safetensors"]);
    assert_eq!(code, 0);
    assert!(out.contains("ALLOW"), "{out}");
    assert!(
        err.contains("warning:") && err.contains("DEPRECATED"),
        "{err}"
    );

    // Several files: exit 0 only if all pass.
    let (code, _, _) = check(
        &s,
        &["det-1/weights.safetensors", "new/weights.safetensors"],
    );
    assert_eq!(code, 1);
}

#[test]
fn slot_and_model_scopes_are_enforced() {
    let s = setup();
    let (code, _, _) = check(&s, &["--slot", "ransomware", "det-1/weights.safetensors"]);
    assert_eq!(code, 0);
    let (code, out, _) = check(&s, &["--slot", "ransomware", "det-2/weights.safetensors"]);
    assert_eq!(
        code, 1,
        "a promoted model's file that is not the slot's active model"
    );
    assert!(
        out.contains("no artifact of det@1.0.0, the active model of slot `ransomware`"),
        "{out}"
    );
    let (code, out, _) = check(&s, &["--slot", "unset", "det-1/weights.safetensors"]);
    assert_eq!(code, 1);
    assert!(out.contains("slot `unset` has no active model"), "{out}");
    let (code, _, _) = check(&s, &["--model", "det@2.0.0", "det-2/weights.safetensors"]);
    assert_eq!(code, 0);
    let (code, out, _) = check(&s, &["--model", "det@2.0.0", "det-1/weights.safetensors"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("its bytes are no artifact of det@2.0.0"),
        "{out}"
    );
    let (_, out, _) = check(
        &s,
        &[
            "--json",
            "--slot",
            "ransomware",
            "det-1/weights.safetensors",
            "det-2/weights.safetensors",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    crate::ingest::validate("check.schema.json", &v);
    assert_eq!(v[0]["allowed"], true);
    assert_eq!(v[1]["allowed"], false);
}

#[test]
fn every_decision_goes_into_a_verifiable_hash_chained_log() {
    let s = setup();
    check(
        &s,
        &[
            "--log",
            "gate.log",
            "det-1/weights.safetensors",
            "old/weights.safetensors",
        ],
    );
    let out = s
        .reg()
        .env("REG_GATE_LOG", s.join("gate.log"))
        .args(["check", "new/weights.safetensors"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = fs::read_to_string(s.join("gate.log")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["allowed"], true);
    assert_eq!(lines[1]["allowed"], false);
    assert_eq!(lines[2]["reason"], "its model is REGISTERED, not approved");
    let (code, out, _) = check(&s, &["--verify-log", "gate.log"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("3 decision(s)") && out.contains("every line authenticated"),
        "{out}"
    );
    // Removing the denied line (hiding a load attempt) breaks the chain.
    let kept: Vec<&str> = log
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    fs::write(s.join("gate.log"), kept.join("\n") + "\n").unwrap();
    let (code, _, err) = check(&s, &["--verify-log", "gate.log"]);
    assert_eq!(code, 1);
    assert!(err.contains("line 2: holds decision number 3"), "{err}");
}

#[test]
fn the_library_hands_out_the_bytes_it_verified_even_if_the_file_is_swapped() {
    use std::io::Read as _;
    let s = setup();
    let path = s.join("live.safetensors");
    let good = fs::read(s.join("det-1/weights.safetensors")).unwrap();
    fs::write(&path, &good).unwrap();
    let reg = reg::repo::registry::Registry::open(&s.dot(), &s.options()).unwrap();
    let gate = reg::gate::Gate::new(&reg, reg::gate::GateOptions::default()).unwrap();
    let mut verified = gate
        .open_verified(&path, &reg::gate::Scope::Slot("ransomware".into()))
        .unwrap();
    // An attacker swaps the file between the check and the load.
    fs::write(&path, b"\x80\x04 malicious pickle").unwrap();
    let mut loaded = Vec::new();
    verified.file.read_to_end(&mut loaded).unwrap();
    assert_eq!(
        loaded, good,
        "the consumer reads the verified bytes, not the swapped file"
    );
    assert_eq!(
        verified
            .decision
            .hash
            .expect("an allowed file was hashed")
            .to_string(),
        blake3::hash(&loaded).to_hex().to_string()
    );
    // The private copy is owner-read-only: no other process of this user can open it to write.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = verified.file.metadata().unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o400, "{mode:o}");
    // And the swapped file itself is denied.
    let denied = gate.open_verified(&path, &reg::gate::Scope::Any);
    assert!(matches!(denied, Err(reg::gate::GateError::Denied(_))));
}

#[test]
fn verify_and_checkout_check_every_byte() {
    let s = setup();
    let out = s.ok(&["verify", "det@1.0.0"]);
    assert!(out.starts_with("OK: det@1.0.0: 1 artifact(s)"), "{out}");
    s.ok(&["checkout", "--slot", "ransomware", "-o", "deployed"]);
    assert_eq!(
        fs::read(s.join("deployed/weights.safetensors")).unwrap(),
        fs::read(s.join("det-1/weights.safetensors")).unwrap()
    );
    let err = s.fails(1, &["checkout", "old@1.0.0", "-o", "x"]);
    assert!(err.contains("old@1.0.0 is REVOKED"), "{err}");
    // A revocation is a decision, not damage: no hint sends the operator to fsck.
    assert!(!err.contains("hint:"), "{err}");
    // Corrupt the stored artifact: verify names it, checkout leaves nothing behind.
    let id = blake3::hash(&fs::read(s.join("det-2/weights.safetensors")).unwrap())
        .to_hex()
        .to_string();
    let p = s.object_path(&id);
    crate::util::make_writable(&p);
    let mut bytes = fs::read(&p).unwrap();
    bytes[20] ^= 1;
    fs::write(&p, bytes).unwrap();
    let err = s.fails(1, &["verify", "det@2.0.0"]);
    assert!(
        err.contains(&format!(
            "artifact `weights.safetensors` of det@2.0.0: object {id} is corrupt"
        )),
        "{err}"
    );
    let err = s.fails(1, &["checkout", "det@2.0.0", "-o", "bad"]);
    assert!(err.contains("is corrupt"), "{err}");
    assert!(!s.join("bad").exists());
    let leftovers: Vec<_> = fs::read_dir(s.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".reg-checkout"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn the_gate_example_runs() {
    let s = setup();
    // Built every time (a no-op when it is fresh: never a stale binary from an older tree), and
    // run from where cargo says it put it (wherever CARGO_TARGET_DIR points).
    let build = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--example",
            "gate",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let ex = String::from_utf8(build.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "gate")
        .find_map(|m| m["executable"].as_str().map(std::path::PathBuf::from))
        .expect("cargo names the gate example's executable");
    let run = |file: &str| {
        let mut c = std::process::Command::new(&ex);
        for (k, v) in s.reg().get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        c.current_dir(s.path())
            .args([".", "ransomware", file])
            .output()
            .unwrap()
    };
    let ok = run("det-1/weights.safetensors");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("ALLOW"));
    let no = run("det-2/weights.safetensors");
    assert_eq!(no.status.code(), Some(1));
    // Denied because det-2 is not the slot's active model, not for any other failure.
    let denied = String::from_utf8_lossy(&no.stdout);
    assert!(
        denied.starts_with("DENY det-2/weights.safetensors: ")
            && denied.contains("the active model of slot `ransomware`"),
        "{denied}{}",
        String::from_utf8_lossy(&no.stderr)
    );
}

/// A model file spanning several of the copy engine's 4 MiB blocks, and not a multiple of one:
/// the caller reads exactly the bytes the decision's hash is of, as b3sum prints it.
#[test]
fn the_library_copy_of_a_multi_block_file_is_the_bytes_its_decision_hashed() {
    use std::io::Read as _;
    let s = Sandbox::new();
    s.init_with_roles();
    let floats = (9 << 20) / 4 + 3;
    let header = format!(
        "{{\"w\":{{\"dtype\":\"F32\",\"shape\":[{floats}],\"data_offsets\":[0,{}]}}}}",
        floats * 4
    );
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend((0..floats * 4).map(|i| (i % 251) as u8));
    fs::create_dir(s.join("big")).unwrap();
    fs::write(s.join("big/weights.safetensors"), &bytes).unwrap();
    s.ok(&[
        "bundle",
        "pack",
        "big",
        "-o",
        "big.tar",
        "--key",
        "pub.pem",
        "--name",
        "big",
        "--version",
        "1.0.0",
        "--type",
        "DL",
        "--use",
        "classification",
        "--description",
        "d",
    ]);
    s.ok(&["add", "big.tar", "--key", "op.pem"]);
    s.ok(&["promote", "big@1.0.0", "--reason", "ok", "--key", "op.pem"]);
    let reg = reg::repo::registry::Registry::open(&s.dot(), &s.options()).unwrap();
    let gate = reg::gate::Gate::new(&reg, reg::gate::GateOptions::default()).unwrap();
    let mut v = gate
        .open_verified(&s.join("big/weights.safetensors"), &reg::gate::Scope::Any)
        .unwrap();
    let mut loaded = Vec::new();
    v.file.read_to_end(&mut loaded).unwrap();
    assert!(loaded == bytes, "the copy differs from the file");
    let b3sum = std::process::Command::new(crate::util::tool("b3sum", "b3sum"))
        .current_dir(s.path())
        .args(["--no-names", "big/weights.safetensors"])
        .output()
        .unwrap();
    assert_eq!(
        v.decision
            .hash
            .expect("an allowed file was hashed")
            .to_string(),
        blake3::hash(&loaded).to_hex().to_string()
    );
    assert_eq!(
        blake3::hash(&loaded).to_hex().to_string(),
        String::from_utf8(b3sum.stdout).unwrap().trim()
    );
}

/// A FIFO is no file to load: the gate refuses it without blocking on it and copies nothing.
#[test]
fn the_library_gate_refuses_a_fifo_without_blocking() {
    let s = Sandbox::new();
    s.init_with_roles();
    let fifo = s.join("model.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reg = reg::repo::registry::Registry::open(&s.dot(), &s.options()).unwrap();
    let gate = reg::gate::Gate::new(&reg, reg::gate::GateOptions::default()).unwrap();
    let e = gate
        .open_verified(&fifo, &reg::gate::Scope::Any)
        .unwrap_err();
    assert!(matches!(e, reg::gate::GateError::Follow(_)), "{e}");
}
