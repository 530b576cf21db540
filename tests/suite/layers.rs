//! The folder tree is the architecture, and this test holds it to the map `src/lib.rs` draws.
//! It reads every Rust file of the library (and of the binary's `src/cli/`) as tokens, outside
//! comments and string literals, and enforces three rules.
//!
//! 1. **Layers form a graph, and imports point down it.** Each top-level module is a layer and
//!    may use only itself and the layers it reaches in [`GRAPH`] (the layers it names, and what
//!    those reach):
//!
//!    ```text
//!    refusal ─► report, fsck
//!    report  ─► ops, query, gate
//!    fsck    ─► query, gate          (fsck reads; it never reaches a writer: not ops, not report)
//!    ops, query, gate ─► bundle      (siblings: none of the three uses another)
//!    bundle ─► repo ─► state ─► format ─► crypto ─► util
//!    ```
//!
//!    An edge goes from a file to each file a path in it names: paths starting `crate::`,
//!    `super::`, `self::`, a child module's name, a name a `use` brought in (or a glob
//!    `use`, when its module has the name), or a name the crate gives itself
//!    (`extern crate self as …`), each branch of a `use` group on its own. The edge goes to the
//!    module the path names, to each module that re-exports the name on the way (`pub use`,
//!    and `pub use …::*` when the glob's module has it), and to the file that defines it: a
//!    re-export in a `mod.rs` hides no edge. A layer's path into the crate root
//!    (`crate::Name`) is refused: it names the layer.
//! 2. **`format` and `state` do no I/O.** Their files name none of `std::fs` and what an
//!    import could rename it to: the tokens `fs`, `File`, `OpenOptions`, `DirBuilder`,
//!    `read_dir`, `stdin`, `stdout`, `stderr`; the path segments `os`, `net`, `process`, `env`
//!    (so `std::os::unix::fs`, `std::env::var`, `use std as s; s::fs::read` are refused);
//!    `Path`'s file-system methods (`.exists()`, `.metadata()`, `.is_file()`, …); `include!`
//!    (code this test would not read); the clock (`SystemTime`, `Instant`: the caller passes
//!    the time). No path of theirs may name an item defined in a file that does such I/O
//!    outside its unit tests (`util::fsutil`, `crypto::keys::file`), nor invoke a macro such a
//!    file defines.
//! 3. **No circle between files.** The files' edges form no cycle, in the library and in the
//!    binary. A file's edges to its ancestors (its folder's `mod.rs`, or the file named after
//!    its folder) are the normal parent/child relation and do not count; a parent's edges to
//!    its children do. So two siblings using each other, directly or through other files, or
//!    through a name their parent re-exports, are refused.
//!
//! Besides, the command line's files reach its shared items through `crate::cli::prelude`,
//! never `super::super::`.
//!
//! What a token reading cannot see: a bare name a glob `use` brought in, written without
//! `::` (a type in a signature), a name a `use` inside a function body renames, a method called on a value of another file's type (its type
//! was named where the value was made), and macros other than those above.
//!
//! The checks are functions over text ([`check`]; the reading is `layers/source.rs`), so the
//! tests in `layers/planted.rs` plant a violation of each rule in a small made-up crate and
//! prove that it is refused.
//!
//! Violations being removed are listed in [`TEMPORARY_LAYER_EDGES`] and [`TEMPORARY_CYCLES`]
//! (empty today), and I/O that `format` may reach for a stated reason in [`IO_REACH_KEPT`]; an
//! entry that no longer matches fails the test, so that the lists never outlive their reason.
//!
//! One more rule is about a single item: `crypto::envelope`'s raw signers sign bytes of any
//! size, so only `format::limits` calls them in `src/`, and every object reg signs is refused
//! first where a reader would refuse it ([`only_format_limits_signs_raw_bytes`]).

mod planted;
mod source;

use source::{Crate, Edge, Tok, module_of, without_tests};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each layer with the layers it uses directly, top first; the closure is what it may use.
const GRAPH: &[(&str, &[&str])] = &[
    ("refusal", &["report", "fsck"]),
    ("report", &["ops", "query", "gate"]),
    ("fsck", &["query", "gate"]),
    ("ops", &["bundle"]),
    ("query", &["bundle"]),
    ("gate", &["bundle"]),
    ("bundle", &["repo"]),
    ("repo", &["state"]),
    ("state", &["format"]),
    ("format", &["crypto"]),
    ("crypto", &["util"]),
    ("util", &[]),
];

/// Uses of a layer the graph forbids, by file, that are being removed (none today; the
/// mechanism stays so that a move in progress can be landed in green steps).
const TEMPORARY_LAYER_EDGES: &[(&str, &str)] = &[];

/// Circles between files that are being untied, each as its sorted files (the test prints the
/// edges that close each circle). None today.
const TEMPORARY_CYCLES: &[&[&str]] = &[];

/// Files that do I/O which `format` or `state` reach, each kept for its reason (an entry that
/// matches nothing any more fails the test).
/// - `util/encoding/echo.rs`: `echo`, which every format error message goes through to hide key
///   material, keeps a base64 run readable when it names an existing directory on this host
///   (`names_a_path_here`: one `symlink_metadata`, read-only, of a path the input itself names).
///   So a format error's *text* may depend on the host's file system, never what format decides:
///   the probe chooses only how much of an echoed input is shown. Moving it to every caller that
///   prints would put the masking rule in as many places as there are printers.
const IO_REACH_KEPT: &[&str] = &["util/encoding/echo.rs"];

/// Tokens that are file-system, terminal or process I/O wherever they appear.
const IO_TOKENS: &[&str] = &[
    "fs",
    "File",
    "OpenOptions",
    "DirBuilder",
    "read_dir",
    "stdin",
    "stdout",
    "stderr",
];
/// The clock, refused in `format` and `state` themselves (the caller passes the time in), not
/// in the files they use: `util::encoding::time` both parses times and holds the `Clock`.
const CLOCK_TOKENS: &[&str] = &["SystemTime", "Instant"];
/// Path segments that are I/O when they are a segment (`std::os`, `env::var`); as plain names
/// (a variable called `env`) they are not.
const IO_SEGMENTS: &[&str] = &["os", "net", "process", "env"];
/// `Path` and `PathBuf` methods that ask the file system.
const IO_METHODS: &[&str] = &[
    "exists",
    "try_exists",
    "metadata",
    "symlink_metadata",
    "canonicalize",
    "read_link",
    "is_file",
    "is_dir",
    "is_symlink",
];
/// The layers that do no I/O.
const NO_IO: &[&str] = &["format", "state"];

// ---------------------------------------------------------------------------------------------
// The rules

/// What [`check`] refuses, one line per violation (cycles: one line per circle).
#[derive(Debug, Default)]
struct Violations {
    layers: Vec<String>,
    io: Vec<String>,
    cycles: Vec<(Vec<String>, String)>,
}

/// The layers `layer` may use, itself included.
fn reach(layer: &str) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    let mut todo = vec![layer];
    while let Some(l) = todo.pop() {
        if let Some((name, below)) = GRAPH.iter().find(|(n, _)| *n == l)
            && out.insert(*name)
        {
            todo.extend_from_slice(below);
        }
    }
    out
}

fn layer_of(rel: &str) -> Option<&str> {
    rel.split_once('/').map(|(l, _)| l)
}

/// Checks the three rules over a library, given as (path under `src/`, text) with `lib.rs`
/// its root, and over the binary's files (`main.rs` and `cli/`) for circles only.
fn check(lib: &[(String, String)], bin: &[(String, String)]) -> Violations {
    let mut v = Violations::default();
    let krate = Crate::new(lib);
    let edges = krate.edges();
    let name = |f: usize| krate.files[f].0.as_str();
    // 1. Layers.
    for (rel, _) in lib {
        if let Some(l) = layer_of(rel)
            && !GRAPH.iter().any(|(n, _)| *n == l)
        {
            v.layers
                .push(format!("{rel}: `{l}` is no layer of the map"));
        }
    }
    for Edge {
        from,
        to,
        line,
        path,
        ..
    } in &edges
    {
        let Some(l) = layer_of(name(*from)) else {
            continue;
        };
        match layer_of(name(*to)) {
            None => v.layers.push(format!(
                "{}:{line}: {l} uses the crate root (`{path}`): name the layer",
                name(*from)
            )),
            Some(m) if !reach(l).contains(m) => v
                .layers
                .push(format!("{}:{line}: {l} uses {m} (`{path}`)", name(*from))),
            Some(_) => {}
        }
    }
    v.layers.dedup();
    // 2. No I/O in format and state.
    // The macros a file doing I/O defines: invoking one is doing what it does.
    let mut io_macros: BTreeSet<String> = BTreeSet::new();
    let io_tokens =
        |toks: &[Tok], io_macros: &BTreeSet<String>, clock: bool| -> Vec<(usize, String)> {
            let s = |i: usize| toks.get(i).map_or("", |t| t.s.as_str());
            let mut out = Vec::new();
            for (i, t) in toks.iter().enumerate() {
                let segment = s(i + 1) == "::" || s(i.wrapping_sub(1)) == "::";
                let invoked = s(i + 1) == "!" && s(i.wrapping_sub(1)) != "macro_rules";
                // `include!` pastes in code this check would not have read.
                if (invoked && (t.s == "include" || io_macros.contains(&t.s)))
                    || IO_TOKENS.contains(&t.s.as_str())
                    || (clock && CLOCK_TOKENS.contains(&t.s.as_str()))
                    || (segment && IO_SEGMENTS.contains(&t.s.as_str()))
                    || (s(i.wrapping_sub(1)) == "."
                        && s(i + 1) == "("
                        && IO_METHODS.contains(&t.s.as_str()))
                {
                    out.push((t.line, t.s.clone()));
                }
            }
            out
        };
    // A file's own unit tests may use files: what it does for its callers is what counts.
    let none = BTreeSet::new();
    let does_io: BTreeSet<usize> = (0..krate.files.len())
        .filter(|f| !io_tokens(&without_tests(&krate.files[*f].1), &none, false).is_empty())
        .collect();
    for f in &does_io {
        let toks = &krate.files[*f].1;
        for w in toks.windows(3) {
            if w[0].s == "macro_rules" && w[1].s == "!" {
                io_macros.insert(w[2].s.clone());
            }
        }
    }
    for (f, (rel, toks)) in krate.files.iter().enumerate() {
        if !layer_of(rel).is_some_and(|l| NO_IO.contains(&l)) {
            continue;
        }
        for (line, tok) in io_tokens(toks, &io_macros, true) {
            v.io.push(format!("{rel}:{line}: `{tok}` is I/O"));
        }
        // A file of these layers that does I/O is named above, not at each of its users.
        for e in edges.iter().filter(|e| e.from == f && e.defines) {
            if does_io.contains(&e.to) && !layer_of(name(e.to)).is_some_and(|l| NO_IO.contains(&l))
            {
                v.io.push(format!(
                    "{rel}:{}: `{}` reaches {}, which does I/O",
                    e.line,
                    e.path,
                    name(e.to)
                ));
            }
        }
    }
    v.io.dedup();
    // 3. No circle between files, in the library and in the binary.
    v.cycles.extend(cycles(&krate, &edges));
    let bin = Crate::new(bin);
    v.cycles.extend(cycles(&bin, &bin.edges()));
    v
}

/// The circles between files (strongly connected sets of more than one file), each as its
/// sorted files and the edges that close it; a file's uses of its ancestors are not edges.
fn cycles(krate: &Crate, edges: &[Edge]) -> Vec<(Vec<String>, String)> {
    let n = krate.files.len();
    let module = |f: usize| module_of(&krate.files[f].0);
    let mut next: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for e in edges {
        if !module(e.from).starts_with(&module(e.to)) {
            next[e.from].insert(e.to);
        }
    }
    let reaches = |from: usize| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(f) = todo.pop() {
            for t in &next[f] {
                if seen.insert(*t) {
                    todo.push(*t);
                }
            }
        }
        seen
    };
    let all: Vec<BTreeSet<usize>> = (0..n).map(reaches).collect();
    let mut out: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for f in 0..n {
        let set: BTreeSet<usize> = (0..n)
            .filter(|g| *g == f || (all[f].contains(g) && all[*g].contains(&f)))
            .collect();
        if set.len() < 2 {
            continue;
        }
        let files: Vec<String> = set.iter().map(|g| krate.files[*g].0.clone()).collect();
        let mut how = BTreeSet::new();
        for e in edges {
            if set.contains(&e.from) && set.contains(&e.to) && next[e.from].contains(&e.to) {
                how.insert(format!(
                    "{}:{} uses {} (`{}`)",
                    krate.files[e.from].0, e.line, krate.files[e.to].0, e.path
                ));
            }
        }
        out.insert(files, how.into_iter().collect::<Vec<_>>().join("; "));
    }
    out.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// The real crate

fn rust_files(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

/// A file: its path under `src/` and its text.
type Source = (String, String);

/// The library's files and the binary's, as `check` takes them.
fn sources() -> (Vec<Source>, Vec<Source>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (mut lib, mut bin) = (Vec::new(), Vec::new());
    rust_files(&src, &src, &mut lib);
    lib.sort();
    let (b, l): (Vec<_>, Vec<_>) = lib
        .into_iter()
        .partition(|(rel, _)| rel == "main.rs" || rel.starts_with("cli/"));
    bin.extend(b);
    (l, bin)
}

fn src_text(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
fn dependencies_point_down() {
    let (lib, bin) = sources();
    let (layers, stale) = allowed(
        check(&lib, &bin).layers,
        TEMPORARY_LAYER_EDGES,
        |(file, layer), l| {
            l.starts_with(&format!("{file}:")) && l.contains(&format!(" uses {layer} "))
        },
    );
    assert!(
        layers.is_empty() && stale.is_empty(),
        "{}",
        failure(
            "imports the layer graph forbids (move the item down, or the caller up)",
            &layers,
            "TEMPORARY_LAYER_EDGES",
            &stale
        )
    );
    // The check reads real imports: the layers above `util` each use what they are drawn on.
    let krate = Crate::new(&lib);
    let edges = krate.edges();
    for (layer, below) in GRAPH.iter().filter(|(_, b)| !b.is_empty()) {
        assert!(
            edges.iter().any(|e| {
                layer_of(&krate.files[e.from].0) == Some(layer)
                    && layer_of(&krate.files[e.to].0)
                        .is_some_and(|l| l != *layer && reach(layer).contains(l))
            }),
            "{layer} uses nothing below it (it should use {below:?}): is the check still reading imports?"
        );
    }
}

#[test]
fn format_and_state_do_no_io() {
    let (lib, bin) = sources();
    let (io, stale) = allowed(check(&lib, &bin).io, IO_REACH_KEPT, |file, l| {
        l.contains(&format!(" reaches {file}, "))
    });
    assert!(
        io.is_empty() && stale.is_empty(),
        "{}",
        failure(
            "format and state do no I/O (FORMAT.md is plain data; the caller reads the file)",
            &io,
            "IO_REACH_KEPT",
            &stale
        )
    );
}

#[test]
fn no_circle_between_files() {
    let (lib, bin) = sources();
    let (cycles, stale) = allowed(
        check(&lib, &bin).cycles,
        TEMPORARY_CYCLES,
        |a, (files, _)| files == a,
    );
    let shown: Vec<String> = cycles
        .iter()
        .map(|(files, how)| format!("{}: {how}", files.join(" ↔ ")))
        .collect();
    assert!(
        shown.is_empty() && stale.is_empty(),
        "{}",
        failure(
            "files that import each other (move what both need into one, or below both)",
            &shown,
            "TEMPORARY_CYCLES",
            &stale
        )
    );
}

/// A failure's text: `head`, what was found, and the allowances of `list` to remove.
fn failure(head: &str, found: &[String], list: &str, stale: &[String]) -> String {
    let mut text = format!("{head}:\n{}", found.join("\n"));
    if !stale.is_empty() {
        text.push_str(&format!(
            "\n{list} entries that match nothing any more (remove them): {}",
            stale.join("; ")
        ));
    }
    text
}

/// `found` less what `allowances` cover, and the allowances that cover nothing any more.
fn allowed<T, A: std::fmt::Debug>(
    mut found: Vec<T>,
    allowances: &[A],
    covers: impl Fn(&A, &T) -> bool,
) -> (Vec<T>, Vec<String>) {
    let mut stale = Vec::new();
    for a in allowances {
        let before = found.len();
        found.retain(|f| !covers(a, f));
        if found.len() == before {
            stale.push(format!("{a:?}"));
        }
    }
    (found, stale)
}

/// The command line's files name its shared items through `crate::cli::prelude` (or
/// `crate::cli::…`), not `super::super::`, which breaks when a file moves a folder.
#[test]
fn the_cli_uses_its_prelude() {
    let (_, bin) = sources();
    let mut found = Vec::new();
    for (rel, text) in &bin {
        let toks = source::lex(text);
        for w in toks.windows(3) {
            if w[0].s == "super" && w[1].s == "::" && w[2].s == "super" {
                found.push(format!("{rel}:{}", w[0].line));
            }
        }
    }
    assert!(
        found.is_empty(),
        "`super::super::` in src/cli (use crate::cli::prelude::* or crate::cli::…): {found:?}"
    );
}

#[test]
fn the_library_declares_exactly_the_layers() {
    let lib = src_text("src/lib.rs");
    let mut declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    declared.sort();
    let mut layers: Vec<&str> = GRAPH.iter().map(|(n, _)| *n).collect();
    layers.sort();
    assert_eq!(declared, layers, "src/lib.rs declares exactly the layers");
}

/// `src/lib.rs` draws the graph: a line per layer, top first, naming the layers it uses
/// (`-` for none) before two spaces and its description.
#[test]
fn the_library_draws_the_graph() {
    let lib = src_text("src/lib.rs");
    let drawn: Vec<(String, Vec<String>)> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!   "))
        .filter_map(|l| {
            let (name, rest) = l.split_once(' ')?;
            GRAPH.iter().any(|(n, _)| *n == name).then_some(())?;
            let uses = rest.trim_start().split("  ").next()?;
            let uses = if uses == "-" {
                Vec::new()
            } else {
                uses.split(", ").map(String::from).collect()
            };
            Some((name.to_string(), uses))
        })
        .collect();
    let graph: Vec<(String, Vec<String>)> = GRAPH
        .iter()
        .map(|(n, b)| (n.to_string(), b.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(
        drawn, graph,
        "src/lib.rs's map draws the graph of this test, top first"
    );
    // Top first: a layer is drawn above every layer it uses.
    for (i, (_, below)) in GRAPH.iter().enumerate() {
        for b in *below {
            assert!(GRAPH.iter().position(|(n, _)| n == b) > Some(i));
        }
    }
}

/// The README describes the layers bottom first, the three siblings as such, and sends the
/// reader to the graph in `src/lib.rs`.
#[test]
fn the_readme_describes_the_graph() {
    let readme = src_text("README.md");
    assert!(
        readme.contains("(`src/lib.rs` draws the graph"),
        "README.md points to the graph in src/lib.rs"
    );
    let list = readme
        .split_once("Bottom first: ")
        .and_then(|(_, rest)| rest.split_once("the crate root is the front"))
        .map(|(list, _)| list.replace("\n  ", " "))
        .expect("README.md describes the layers, `Bottom first: ` … `the crate root is the front`");
    let at = |layer: &str| {
        list.find(&format!("`{layer}` ("))
            .unwrap_or_else(|| panic!("README.md describes `{layer}` (…)"))
    };
    for (layer, below) in GRAPH {
        for b in *below {
            assert!(
                at(b) < at(layer),
                "README.md describes the layers bottom first: `{b}` before `{layer}`"
            );
        }
    }
    assert!(
        list.contains("three siblings, none using another: `ops`"),
        "README.md says that ops, query and gate are siblings"
    );
}

/// `crypto::envelope::{sign, sign_bytes}` sign bytes of any size: the size limits are format
/// vocabulary (`format::limits`, FORMAT.md §4.4), which signs through them after refusing what
/// a reader would refuse. Any other caller in `src/` (outside unit tests, which forge objects)
/// would write what no reader accepts. The raw signers stay public for the suite's forgeries.
#[test]
fn only_format_limits_signs_raw_bytes() {
    let (lib, bin) = sources();
    let krate = Crate::new(&lib);
    let envelope = krate
        .files
        .iter()
        .position(|(rel, _)| rel == "crypto/envelope.rs")
        .expect("crypto/envelope.rs is read");
    // A file's unit tests start at its first `#[cfg(test)]` item, by the crate's convention.
    let tests_from = |rel: &str| {
        let text = &lib.iter().find(|(r, _)| r == rel)?.1;
        text.lines()
            .position(|l| l.starts_with("#[cfg(test)]"))
            .map(|n| n + 1)
    };
    let raw = |path: &str| {
        let last = path.rsplit("::").next().unwrap_or(path).trim();
        last == "sign" || last == "sign_bytes"
    };
    let mut callers: Vec<String> = krate
        .edges()
        .iter()
        .filter(|e| e.to == envelope && e.defines && raw(&e.path))
        .map(|e| (krate.files[e.from].0.as_str(), e.line, e.path.as_str()))
        .filter(|(rel, line, _)| {
            *rel != "format/limits.rs"
                && *rel != "crypto/envelope.rs"
                && !rel.ends_with("/tests.rs")
                && !rel.contains("/tests/")
                && tests_from(rel).is_none_or(|t| *line < t)
        })
        .map(|(rel, line, path)| format!("{rel}:{line}: `{path}`"))
        .collect();
    // The binary reaches the library through `reg::`, which its own crate does not resolve:
    // a token reading finds `envelope::sign` there, however it was brought in.
    for (rel, text) in &bin {
        let toks = without_tests(&source::lex(text));
        for w in toks.windows(3) {
            if w[0].s == "envelope"
                && w[1].s == "::"
                && (w[2].s == "sign" || w[2].s == "sign_bytes")
            {
                callers.push(format!("{rel}:{}: `envelope::{}`", w[2].line, w[2].s));
            }
        }
        // A `use` that brings a raw signer in by name, renames the module or globs it.
        let mut at = 0;
        while let Some(start) = toks[at..].iter().position(|t| t.s == "use").map(|p| at + p) {
            let end = toks[start..]
                .iter()
                .position(|t| t.s == ";")
                .map_or(toks.len(), |p| start + p);
            let stmt = &toks[start..end];
            if stmt.iter().any(|t| t.s == "envelope")
                && stmt
                    .iter()
                    .any(|t| matches!(t.s.as_str(), "sign" | "sign_bytes" | "as" | "*"))
            {
                callers.push(format!(
                    "{rel}:{}: a `use` of envelope's signers",
                    stmt[0].line
                ));
            }
            at = end.max(start + 1);
        }
    }
    assert!(
        callers.is_empty(),
        "only format::limits may call crypto::envelope's raw signers (sign through \
         format::limits::sign, which refuses an object over its reader's limit):\n{}",
        callers.join("\n")
    );
    // The check reads real paths: format::limits itself is found calling one.
    assert!(
        krate.edges().iter().any(|e| e.to == envelope
            && e.defines
            && raw(&e.path)
            && krate.files[e.from].0 == "format/limits.rs"),
        "format/limits.rs calls the raw signer: is the check still reading paths?"
    );
}
