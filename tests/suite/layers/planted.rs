//! The checker refuses planted violations: a made-up crate for each rule, with one broken.

use super::source::lex;
use super::{GRAPH, Violations, check};

/// A made-up library: every layer's `mod.rs` defining `pub fn f()`, plus `extra` files.
fn planted(extra: &[(&str, &str)]) -> Violations {
    // The crate names itself `me` too, as `extern crate self as me;` lets it.
    let mut lib: Vec<(String, String)> =
        vec![("lib.rs".into(), "extern crate self as me;\n".into())];
    for (layer, _) in GRAPH {
        lib.push((format!("{layer}/mod.rs"), "pub fn f() {}\n".into()));
    }
    for (rel, text) in extra {
        lib.retain(|(r, _)| r != rel);
        lib.push((rel.to_string(), text.to_string()));
    }
    check(&lib, &[])
}

#[test]
fn the_checker_passes_a_clean_crate() {
    let v = planted(&[
        (
            "report/mod.rs",
            "use crate::ops::f;\nuse crate::{query, gate::f as g};\n",
        ),
        (
            "fsck/mod.rs",
            "pub fn f() { crate::query::f(); crate::gate::f() }\n",
        ),
        (
            "state/mod.rs",
            "mod a;\nmod b;\npub use a::A;\npub fn f() { b::g() }\n// std::fs\n",
        ),
        (
            "state/a.rs",
            "use super::f;\npub struct A;\nfn x(env: u8) { let s = \"std::fs\"; }\n",
        ),
        ("state/b.rs", "use super::{A, f};\npub fn g() {}\n"),
    ]);
    assert!(
        v.layers.is_empty() && v.io.is_empty() && v.cycles.is_empty(),
        "{v:?}"
    );
}

#[test]
fn the_checker_refuses_an_upward_or_sideways_import() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "fsck/x.rs",
            "use crate::ops::f;\n",
            "fsck/x.rs:1: fsck uses ops (`crate::ops::f`)",
        ),
        (
            "fsck/x.rs",
            "fn g() { crate::report::f() }\n",
            "fsck uses report",
        ),
        (
            "query/x.rs",
            "use crate::{gate::f, util};\n",
            "query/x.rs:1: query uses gate (`crate::gate::f`)",
        ),
        (
            "ops/x.rs",
            "fn g() { super::super::query::f() }\n",
            "ops uses query",
        ),
        (
            "gate/x.rs",
            "use crate::ops as o;\nfn g() { o::f() }\n",
            "gate uses ops",
        ),
        ("util/x.rs", "use crate::crypto::*;\n", "util uses crypto"),
        (
            "state/x.rs",
            "use crate::Thing;\n",
            "state uses the crate root",
        ),
        ("gate/x.rs", "fn g() { me::ops::f() }\n", "gate uses ops"),
    ];
    for (file, text, needle) in cases {
        let v = planted(&[(file, text)]);
        assert!(
            v.layers.iter().any(|l| l.contains(needle)),
            "{text:?}: {v:?}"
        );
    }
    // Through a re-export: `repo::f` is defined in ops.
    let v = planted(&[
        ("lib.rs", "pub use ops::f as Thing;\n"),
        ("state/x.rs", "use crate::Thing;\n"),
    ]);
    assert!(
        v.layers.iter().any(|l| l.contains("state uses ops")),
        "{v:?}"
    );
}

#[test]
fn the_checker_refuses_io_in_format_and_state() {
    let cases: &[(&str, &str)] = &[
        ("use std::fs;\n", "`fs` is I/O"),
        ("fn f() { std::fs::read(\"x\"); }\n", "`fs` is I/O"),
        ("use std::fs as x;\n", "`fs` is I/O"),
        ("use std::{fs, io};\n", "`fs` is I/O"),
        (
            "use std as s;\nfn f() { s::fs::read(\"x\"); }\n",
            "`fs` is I/O",
        ),
        ("use std::os::unix::fs::FileExt;\n", "`os` is I/O"),
        (
            "use std::io::Read;\nfn f() { File::open(\"x\"); }\n",
            "`File` is I/O",
        ),
        ("fn f() { std::env::var(\"X\"); }\n", "`env` is I/O"),
        (
            "fn f(p: &std::path::Path) -> bool { p.exists() }\n",
            "`exists` is I/O",
        ),
        ("fn f() { let _ = std::io::stdin(); }\n", "`stdin` is I/O"),
        (
            "use crate::util::disk::read;\n",
            "reaches util/disk.rs, which does I/O",
        ),
        ("fn f() { slurp!(\"x\"); }\n", "`slurp` is I/O"),
        ("include!(\"elsewhere.rs\");\n", "`include` is I/O"),
        (
            "fn f() { std::time::SystemTime::now(); }\n",
            "`SystemTime` is I/O",
        ),
    ];
    for (text, needle) in cases {
        let v = planted(&[
            ("format/x.rs", text),
            ("util/mod.rs", "pub mod disk;\n"),
            (
                "util/disk.rs",
                "pub fn read() { std::fs::read(\"x\"); }\n\
                 #[macro_export]\n\
                 macro_rules! slurp { ($p:expr) => { std::fs::read($p) } }\n",
            ),
        ]);
        assert!(v.io.iter().any(|l| l.contains(needle)), "{text:?}: {v:?}");
    }
}

#[test]
fn the_checker_refuses_a_circle_between_files() {
    let both = |v: &Violations, a: &str, b: &str| {
        v.cycles
            .iter()
            .any(|(f, _)| f.contains(&a.to_string()) && f.contains(&b.to_string()))
    };
    // Siblings, by absolute paths.
    let v = planted(&[
        ("repo/mod.rs", "mod a;\nmod b;\n"),
        ("repo/a.rs", "use crate::repo::b::B;\npub struct A;\n"),
        (
            "repo/b.rs",
            "pub struct B;\nfn g() -> crate::repo::a::A { todo!() }\n",
        ),
    ]);
    assert!(both(&v, "repo/a.rs", "repo/b.rs"), "{v:?}");
    // Siblings, through `super::` and a name their parent re-exports.
    let v = planted(&[
        ("repo/mod.rs", "mod a;\nmod b;\npub use b::B;\n"),
        ("repo/a.rs", "use super::B;\npub struct A;\n"),
        ("repo/b.rs", "use super::a::A;\npub struct B;\n"),
    ]);
    assert!(both(&v, "repo/a.rs", "repo/b.rs"), "{v:?}");
    // A longer circle, through `self::`-relative groups.
    let v = planted(&[
        ("repo/mod.rs", "mod a;\nmod b;\nmod c;\n"),
        ("repo/a.rs", "use super::{b::B};\npub struct A;\n"),
        ("repo/b.rs", "use super::c::C;\npub struct B;\n"),
        (
            "repo/c.rs",
            "use crate::repo::{self, a::{self as x}};\npub struct C;\n",
        ),
    ]);
    assert!(both(&v, "repo/a.rs", "repo/c.rs"), "{v:?}");
    // A parent and its child using each other is not a circle.
    let v = planted(&[
        (
            "repo/mod.rs",
            "mod a;\npub struct S;\npub fn f() { a::g() }\n",
        ),
        ("repo/a.rs", "use super::S;\npub fn g() {}\n"),
    ]);
    assert!(v.cycles.is_empty(), "{v:?}");
}

#[test]
fn the_lexer_skips_comments_and_literals() {
    let toks: Vec<String> = lex(
        "a /* fs /* nested */ fs */ b // fs\nr#\"fs\"# br\"fs\" b'f' 'x' '\\'' \"f\\\"s\" c<'a> r#type",
    )
    .into_iter()
    .map(|t| t.s)
    .collect();
    assert_eq!(toks, ["a", "b", "c", "<", ">", "type"]);
}
