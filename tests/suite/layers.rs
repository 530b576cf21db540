//! The folder tree is the architecture: each top-level module of the library uses only the
//! layers below it, in the order `src/lib.rs` draws. This reads every `crate::` path in `src/`,
//! so that an upward import (the start of a cycle) fails here rather than decaying silently.

use std::path::Path;

/// The layers, bottom first, as `src/lib.rs` draws them.
const LAYERS: &[&str] = &[
    "util", "crypto", "format", "state", "repo", "bundle", "ops", "query", "gate", "report",
    "fsck", "refusal",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every (from-layer, to-layer, file:line) edge named by a `crate::layer` path outside comments.
fn edges() -> Vec<(usize, usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for layer in LAYERS {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        let from = LAYERS.iter().position(|l| l == layer).unwrap();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + "crate::".len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    let to = LAYERS.iter().position(|l| *l == name).unwrap_or_else(|| {
                        panic!("{}:{}: `crate::{name}` is no layer", file.display(), n + 1)
                    });
                    let at = format!("{}:{}", file.strip_prefix(&src).unwrap().display(), n + 1);
                    out.push((from, to, at));
                }
            }
        }
    }
    out
}

#[test]
fn dependencies_point_down() {
    let edges = edges();
    let up: Vec<String> = edges
        .iter()
        .filter(|(from, to, _)| to > from)
        .map(|(from, to, at)| format!("{at}: {} uses {}", LAYERS[*from], LAYERS[*to]))
        .collect();
    assert!(
        up.is_empty(),
        "imports that point up a layer (move the item down, or the caller up):\n{}",
        up.join("\n")
    );
    // The check reads real imports: the layers above `util` each use something below them.
    for (i, layer) in LAYERS.iter().enumerate().skip(1) {
        assert!(
            edges.iter().any(|(from, to, _)| *from == i && to < from),
            "{layer} uses nothing below it: is the check still reading imports?"
        );
    }
}

#[test]
fn the_library_declares_exactly_the_layers() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    declared.sort();
    let mut layers = LAYERS.to_vec();
    layers.sort();
    assert_eq!(declared, layers, "src/lib.rs declares exactly the layers");
    // The map in the doc comment draws them top first.
    let drawn: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| LAYERS.contains(w))
        .collect();
    let top_first: Vec<&str> = LAYERS.iter().rev().copied().collect();
    assert_eq!(
        drawn, top_first,
        "src/lib.rs's layer map draws the layers, top first"
    );
}
