//! `reg bundle pack`: sign a model directory into one tar, optionally age-encrypted.

use crate::cli::error::BundleUse;
use crate::cli::prelude::*;
use crate::cli::secrets::bundle_passphrase;
use crate::cli::sign::Manifest;
use crate::cli::stdio::{STDOUT, is_dash, refuse_terminal_stdout};
use reg::bundle::pack::{Encryption, Metadata, Output, Packed, pack};
use reg::crypto::keys::{KeyText, key_text_kind, parse_age_recipient};
use reg::format::manifest::{Provenance, Step, Violation};
use std::path::Path;
use std::path::PathBuf;

/// Pack DIR's files into a bundle signed with a publisher key
///
/// Metadata comes from the flags, or from a JSON file (--metadata) with the same field names
/// (name, version, type, uses, description, framework, labels, provenance, owner, license).
///
/// `-o -` writes the bundle to standard output (never to a terminal), and the messages to
/// standard error: `reg bundle pack model/ -o - --key pub.pem ... | ssh host reg add -`. A bar
/// on standard error shows the progress of each pass over the files when it is a terminal.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory holding the model's files (all of them are packed)
    dir: PathBuf,
    /// The bundle to write (a tar; age-encrypted with --recipient or --passphrase); `-`
    /// writes standard output
    #[arg(short, long, value_name = "OUT")]
    out: PathBuf,
    #[command(flatten)]
    sign: Signing<Manifest>,
    /// Metadata as JSON; flags given as well override it
    #[arg(long, value_name = "FILE.json")]
    metadata: Option<PathBuf>,
    /// Model name (lowercase letters, digits, . _ -)
    #[arg(long)]
    name: Option<String>,
    /// Semantic version, e.g. 1.4.0
    #[arg(long)]
    version: Option<String>,
    /// Model type: ML, DL, LLM or ruleset
    #[arg(long = "type", value_name = "TYPE")]
    model_type: Option<String>,
    /// Intended use (repeatable): classification, clustering, anomaly-detection, summarization, ..., or other:NAME
    #[arg(long = "use", value_name = "USE")]
    uses: Vec<String>,
    /// What the model is and does
    #[arg(long)]
    description: Option<String>,
    /// Framework, e.g. "pytorch 2.3"
    #[arg(long)]
    framework: Option<String>,
    /// A label KEY=VALUE (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Who answers for the model, e.g. "vision team <vision@example.org>" (signed; 1 to 128 characters, no control character nor space at either end; a registry of format 4 or later admits it)
    #[arg(long)]
    owner: Option<String>,
    /// The model's license, e.g. Apache-2.0 (signed; 1 to 128 characters, no control character nor space at either end; a registry of format 4 or later admits it)
    #[arg(long)]
    license: Option<String>,
    /// Training-data reference NAME=ALGORITHM:HEX, e.g. corpus-2026=sha256:ab12... (repeatable)
    #[arg(long = "provenance", value_name = "NAME=HASH")]
    provenance: Vec<String>,
    /// Encrypt to this age recipient (repeatable); `reg recipients list` prints a registry's
    #[arg(long = "recipient", value_name = "AGE_RECIPIENT")]
    recipients: Vec<String>,
    /// Encrypt to the recipients listed in this file (one per line, # comments)
    #[arg(long = "recipients-file", value_name = "FILE")]
    recipients_files: Vec<PathBuf>,
    /// Encrypt with a passphrase (from REG_BUNDLE_PASSPHRASE, else asked)
    #[arg(long, conflicts_with_all = ["recipients", "recipients_files"])]
    passphrase: bool,
    /// Print what was packed as JSON (schema/bundle-pack.schema.json); not with `-o -`
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CommandResult {
    let to_stdout = is_dash(&args.out);
    if to_stdout {
        if args.json {
            return Err(CommandError::usage_hint(
                "--json and `-o -` both write to standard output",
                "write the bundle to a file with `-o FILE`, or leave out --json",
            ));
        }
        // Before any passphrase is asked or any byte hashed.
        refuse_terminal_stdout("a bundle")?;
    }
    let meta = metadata(&args)?;
    let encryption = encryption(&args)?;
    let key = args.sign.load()?;
    let clock = crate::cli::clock();
    let encrypted = !matches!(encryption, Encryption::None);
    let mut stdout = std::io::stdout().lock();
    let out = if to_stdout {
        Output::Stream {
            writer: &mut stdout,
            name: Path::new(STDOUT),
        }
    } else {
        Output::File(&args.out)
    };
    let packed = pack(&args.dir, meta, &key, out, encryption, &clock)
        .map_err(|e| CommandError::bundle(e, BundleUse::Packing { flag }))?;
    drop(stdout);
    if args.json {
        warn_code_on_load(&packed);
        jsonln!(&serde_json::json!({
            "action": "pack",
            "model": packed.manifest.spec(),
            "record": packed.record.to_string(),
            "bundle": packed.bundle_hash.to_string(),
            "out": args.out,
            "encrypted": encrypted,
            "artifacts": packed.manifest.artifacts.len(),
            "publisher": packed.manifest.publisher.to_string(),
        }));
        return Ok(());
    }
    print_packed(&packed, &args.out, to_stdout)?;
    warn_code_on_load(&packed);
    Ok(())
}

/// A violated manifest field named by the flag that sets it (`--type`), as the user gave it;
/// fields reg fills in itself (artifacts, created, publisher) keep their manifest names.
fn flag(v: &Violation) -> String {
    let flag = match v.at.first() {
        Some(Step::Field(f)) => match f.as_str() {
            "name" => "--name",
            "version" => "--version",
            "type" => "--type",
            "uses" => "--use",
            "description" => "--description",
            "framework" => "--framework",
            "labels" => "--label",
            "provenance" => "--provenance",
            _ => return v.field("the metadata"),
        },
        _ => return v.field("the metadata"),
    };
    flag.to_string()
}

/// The model metadata: the `--metadata` file if given, each flag given overriding its field. A
/// step of its own because it is all the parsing of the metadata flags.
fn metadata(args: &Args) -> CommandResult<Metadata> {
    let mut meta: Metadata = match &args.metadata {
        Some(p) => reg::util::encoding::parse_json_strict(&reg::util::fsutil::read_small(
            p,
            reg::format::manifest::MANIFEST_LIMIT,
        )?)
        .and_then(|v| Ok(serde_json::from_value(v)?))
        .map_err(|e| CommandError::usage(format!("metadata file `{}`: {e}", p.display())))?,
        None => Metadata::default(),
    };
    if let Some(v) = &args.name {
        meta.name = v.clone();
    }
    if let Some(v) = &args.version {
        meta.version = v.clone();
    }
    if let Some(v) = &args.model_type {
        meta.model_type = v.clone();
    }
    if !args.uses.is_empty() {
        meta.uses = args.uses.clone();
    }
    if let Some(v) = &args.description {
        meta.description = v.clone();
    }
    if args.framework.is_some() {
        meta.framework = args.framework.clone();
    }
    if args.owner.is_some() {
        meta.owner = args.owner.clone();
    }
    if args.license.is_some() {
        meta.license = args.license.clone();
    }
    for l in &args.labels {
        let (k, v) = l
            .split_once('=')
            .ok_or_else(|| CommandError::usage(format!("--label `{l}`: expected KEY=VALUE")))?;
        meta.labels.insert(k.to_string(), v.to_string());
    }
    for p in &args.provenance {
        let (name, hash) = p.split_once('=').ok_or_else(|| {
            CommandError::usage(format!("--provenance `{p}`: expected NAME=ALGORITHM:HEX"))
        })?;
        meta.provenance.push(Provenance {
            name: name.to_string(),
            hash: hash.to_string(),
        });
    }
    Ok(meta)
}

/// How to encrypt the bundle, from `--recipient`, `--recipients-file` and `--passphrase`. A step
/// of its own because it is all the parsing of the encryption flags, and may ask for a
/// passphrase.
fn encryption(args: &Args) -> CommandResult<Encryption> {
    let mut recipients = Vec::new();
    for r in &args.recipients {
        recipients.push(
            parse_age_recipient(r).map_err(|e| CommandError::usage(format!("--recipient: {e}")))?,
        );
    }
    for f in &args.recipients_files {
        recipients.extend(recipients_file(f)?);
    }
    Ok(if args.passphrase {
        Encryption::Passphrase(bundle_passphrase(true).ok_or_else(|| {
            CommandError::usage("--passphrase needs REG_BUNDLE_PASSPHRASE or a terminal")
        })?)
    } else if recipients.is_empty() {
        Encryption::None
    } else {
        Encryption::Recipients(recipients)
    })
}

/// Prints what was packed into `out` (on stderr when the bundle went to stdout).
fn print_packed(packed: &Packed, out: &Path, to_stderr: bool) -> CommandResult {
    infoln!(
        to_stderr,
        "packed {} ({} artifact(s)) into {}",
        packed.manifest.spec(),
        packed.manifest.artifacts.len(),
        if to_stderr {
            STDOUT.to_string()
        } else {
            out.display().to_string()
        }
    );
    infoln!(to_stderr, "record id: {}", packed.record);
    infoln!(to_stderr, "bundle:    {}", packed.bundle_hash);
    Ok(())
}

/// Warns of each artifact that runs code when loaded.
fn warn_code_on_load(packed: &Packed) {
    for a in packed
        .manifest
        .artifacts
        .iter()
        .filter(|a| a.format.runs_code_when_loaded())
    {
        errln!(
            "warning: `{}` is {} data, which runs code when loaded; a registry policy may refuse it",
            a.path,
            a.format
        );
    }
}

/// Largest recipients file read: one recipient is 62 bytes, and a list of many is still small.
const RECIPIENTS_FILE_LIMIT: u64 = 1024 * 1024;

/// The recipients listed in `path` (one per line, `#` comments). Errors name the file, the line
/// and what was found there, never the line's text: a secret passed by mistake stays unprinted.
fn recipients_file(path: &Path) -> CommandResult<Vec<age::x25519::Recipient>> {
    let name = path.display();
    let bytes = reg::util::fsutil::read_small(path, RECIPIENTS_FILE_LIMIT)
        .map_err(|e| CommandError::usage(format!("recipients file: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| CommandError::usage(format!("recipients file `{name}` is not text")))?;
    match key_text_kind(&text) {
        Some(KeyText::AgeIdentity) => {
            return Err(CommandError::usage(format!(
                "recipients file `{name}` is an age identity (secret), not a list of recipients: pass \
             its recipient (age1...) with --recipient; `reg key gen --age` printed it, and the \
             identity file keeps it on its `# public key:` line"
            )));
        }
        Some(kind) if kind != KeyText::AgeRecipient => {
            return Err(CommandError::usage(format!(
                "recipients file `{name}` is {}, not a list of age recipients (age1..., one per line)",
                kind.name()
            )));
        }
        _ => {}
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(line.parse().map_err(|_| {
            CommandError::usage(format!(
                "recipients file `{name}` line {}: not an age X25519 recipient (age1...)",
                i + 1
            ))
        })?);
    }
    Ok(out)
}
