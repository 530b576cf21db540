//! `reg completions` and `reg man`: shell completions and man pages, generated from the CLI
//! definition itself (clap's own generators), so they cannot fall out of date.

use crate::cli::prelude::*;
use std::path::PathBuf;

/// Print shell completions (bash: `reg completions bash > /etc/bash_completion.d/reg`)
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell
    shell: clap_complete::Shell,
}

/// Write a man page per command into DIR (install: copy them to a man1 directory)
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// A new directory to write reg.1, reg-add.1, reg-key-gen.1, ... into
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
}

pub fn completions(args: CompletionsArgs) -> CommandResult {
    use std::io::Write as _;
    let mut cmd = super::command();
    // Into a buffer first: clap_complete panics on a closed stdout, reg does not.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "reg", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(())
}

/// Every variable reg reads, with what it does: the ENVIRONMENT section of every page. A test
/// checks that each `REG_*` name the sources read is listed.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("REG_DIR", "The registry, as --registry gives it."),
    (
        "REG_TRUST",
        "A root key fingerprint to trust, as --trust gives it (overrides the host's pins).",
    ),
    (
        "REG_TRUST_FILE",
        "The host trust file (pins) [default: $XDG_CONFIG_HOME/reg/trust.json, or ~/.config/reg/trust.json]. A second host on one machine (a test site) needs its own, and its own REG_STATE_DIR.",
    ),
    (
        "REG_STATE_DIR",
        "The host state directory: the last checkpoint verified of each registry, the decision log key [default: $XDG_STATE_HOME/reg, or ~/.local/state/reg].",
    ),
    (
        "REG_LOCK_TIMEOUT",
        "Seconds to wait for another writer's lock before exit status 3 [default: 10].",
    ),
    (
        "REG_GATE_LOG",
        "The decision log of `reg check`, as --log gives it.",
    ),
    (
        "REG_KEY_PASSPHRASE",
        "The passphrase of an encrypted signing key (else asked on the terminal).",
    ),
    (
        "REG_BUNDLE_PASSPHRASE",
        "The passphrase of a passphrase-encrypted bundle (else asked on the terminal).",
    ),
    (
        "REG_FAILPOINT, REG_FAILPOINT_PAUSE",
        "Test hooks of debug builds (stop, pause or fail at a named step); release builds ignore them.",
    ),
    (
        "SOURCE_DATE_EPOCH",
        "The time, in seconds since 1970, to write instead of the clock's (reproducible bundles and entries).",
    ),
    (
        "NO_COLOR",
        "When set and not empty, reg prints no colour: no progress bars are drawn, and --help is plain. Colour is only ever used on a terminal, in progress bars and help; messages, listings and JSON never carry any.",
    ),
    (
        "HOME, XDG_CONFIG_HOME, XDG_STATE_HOME",
        "Where the trust file and the state directory are by default (absolute paths only).",
    ),
];

/// The exit codes (README, "Exit codes"): the EXIT STATUS section of every page.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success (fsck: PASS; check: ALLOW; nothing to do)."),
    (
        "1",
        "Refused, or a check failed: a rule, a signature, a hash or the host's trust said no (fsck: FAIL; check: DENY); nothing was changed.",
    ),
    (
        "2",
        "Usage error, unreadable input, I/O error, or an output that already exists.",
    ),
    (
        "3",
        "The registry is busy: another writer held its lock longer than REG_LOCK_TIMEOUT.",
    ),
];

/// Text escaped for roff: a backslash, a hyphen (so that `--key` stays two hyphens and copies
/// as typed) and a leading control character.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The sections reg adds to clap's page of `cmd` (page `name`, command `path`): EXAMPLES,
/// ENVIRONMENT, EXIT STATUS and SEE ALSO, which names `reg(1)`, the parent page and the
/// subcommands' pages, all of them pages `reg man` writes.
fn extra_sections(cmd: &clap::Command, name: &str, path: &str) -> String {
    let mut out = String::new();
    if let Some(lines) = super::examples::of(path) {
        out.push_str(".SH EXAMPLES\n.nf\n.RS 4\n");
        for line in lines {
            out.push_str(&roff(line));
            out.push('\n');
        }
        out.push_str(".RE\n.fi\n");
    }
    out.push_str(".SH ENVIRONMENT\n");
    for (var, what) in ENVIRONMENT {
        out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(var), roff(what)));
    }
    out.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in EXIT_STATUS {
        out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff(what)));
    }
    let mut see = Vec::new();
    if name != "reg" {
        see.push("reg".to_string());
        if let Some((parent, _)) = name.rsplit_once('-')
            && parent != "reg"
        {
            see.push(parent.to_string());
        }
    }
    see.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("{name}-{}", s.get_name())),
    );
    if !see.is_empty() {
        let refs: Vec<String> = see.iter().map(|p| format!("{}(1)", roff(p))).collect();
        out.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", refs.join(", ")));
    }
    out
}

/// One page: clap's sections (title, name, synopsis, description, options, subcommands), then
/// reg's ([`extra_sections`]), then the version.
fn page(cmd: &clap::Command, name: &str, path: &str) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut page)?;
    }
    page.extend_from_slice(extra_sections(cmd, name, path).as_bytes());
    if cmd.get_version().is_some() || cmd.get_long_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    Ok(page)
}

pub fn man(args: ManArgs) -> CommandResult {
    use std::io::Write as _;
    super::stdio::refuse_dash(&args.out, "a directory of man pages")?;
    // A new directory, by the one rule of outputs (never over what is there, never through a
    // link, never inside a registry): the pages are then copied where man finds them.
    let mut dir = reg::util::create::create_new_dir::<CommandError>(
        &args.out,
        ".reg-man-",
        "reg man writes a new directory",
    )?;
    let mut written = 0;
    // No `help` subcommand: it has no page, so no page may name one.
    let mut root = super::command().disable_help_subcommand(true);
    root.build();
    let mut stack = vec![(String::from("reg"), String::new(), root)];
    while let Some((name, path, cmd)) = stack.pop() {
        let cmd = cmd.name(name.clone());
        let path_of = |sub: &str| {
            if path.is_empty() {
                sub.to_string()
            } else {
                format!("{path} {sub}")
            }
        };
        let file = std::path::PathBuf::from(format!("{name}.1"));
        let out = args.out.join(&file);
        dir.create_file::<CommandError>(&file)?
            .write_all(&page(&cmd, &name, &path)?)
            .map_err(|e| CommandError::usage(format!("write `{}`: {e}", out.display())))?;
        written += 1;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            stack.push((
                format!("{name}-{}", sub.get_name()),
                path_of(sub.get_name()),
                sub.clone().disable_help_subcommand(true),
            ));
        }
    }
    dir.publish::<CommandError>()?;
    outln!("wrote {written} man pages into {}", args.out.display());
    Ok(())
}
