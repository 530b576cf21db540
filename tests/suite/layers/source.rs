//! Reading Rust source as the layer test needs it: tokens outside comments and literals, the
//! modules of a crate (files and inline ones), what each defines and `use`s, and every path
//! written in it, resolved to the files it names (through re-exports).

use std::collections::{BTreeSet, HashMap};

/// A token of Rust source outside comments and literals, with its line.
#[derive(Debug, Clone)]
pub(super) struct Tok {
    pub(super) s: String,
    pub(super) line: usize,
}

pub(super) fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

pub(super) fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| is_ident_start(c) || c == '$')
}

/// The tokens of `text`: identifiers (`$crate` as one), `::`, and single punctuation; comments,
/// strings, raw strings, chars and lifetimes are skipped, numbers are kept as words.
pub(super) fn lex(text: &str) -> Vec<Tok> {
    let b: Vec<char> = text.chars().collect();
    let at = |i: usize| b.get(i).copied().unwrap_or('\0');
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let skip_to = |i: &mut usize, line: &mut usize, end: usize| {
        *line += b[*i..end.min(b.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count();
        *i = end;
    };
    while i < b.len() {
        let c = b[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let (mut j, mut depth) = (i + 2, 1);
            while j < b.len() && depth > 0 {
                if b[j] == '/' && at(j + 1) == '*' {
                    depth += 1;
                    j += 1;
                } else if b[j] == '*' && at(j + 1) == '/' {
                    depth -= 1;
                    j += 1;
                }
                j += 1;
            }
            skip_to(&mut i, &mut line, j);
        } else if (c == 'r' || (c == 'b' && at(i + 1) == 'r'))
            && (i == 0 || !is_ident_start(b[i - 1]) && !b[i - 1].is_ascii_digit())
            && {
                let j = if c == 'b' { i + 2 } else { i + 1 };
                let mut k = j;
                while at(k) == '#' {
                    k += 1;
                }
                at(k) == '"' || (c == 'r' && k > j && is_ident_start(at(k)))
            }
        {
            let j = if c == 'b' { i + 2 } else { i + 1 };
            let mut k = j;
            while at(k) == '#' {
                k += 1;
            }
            if at(k) != '"' {
                // A raw identifier, `r#type`: the identifier.
                i = k;
                continue;
            }
            let hashes = k - j;
            let mut e = k + 1;
            while e < b.len() && !(b[e] == '"' && (1..=hashes).all(|h| at(e + h) == '#')) {
                e += 1;
            }
            skip_to(&mut i, &mut line, e + 1 + hashes);
        } else if c == 'b' && (at(i + 1) == '"' || at(i + 1) == '\'') {
            i += 1;
        } else if c == '"' {
            let mut e = i + 1;
            while e < b.len() && b[e] != '"' {
                e += if b[e] == '\\' { 2 } else { 1 };
            }
            skip_to(&mut i, &mut line, e + 1);
        } else if c == '\'' {
            if at(i + 1) == '\\' {
                let mut e = i + 3;
                while e < b.len() && b[e] != '\'' {
                    e += 1;
                }
                i = e + 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or a label.
                i += 1;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
            }
        } else if is_ident_start(c) || c.is_ascii_digit() || (c == '$' && is_ident_start(at(i + 1)))
        {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok {
                s: b[start..i].iter().collect(),
                line,
            });
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Tok {
                s: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Tok {
                s: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

/// `toks` without its `#[cfg(test)]` items (a `mod tests { … }`, a test function).
pub(super) fn without_tests(toks: &[Tok]) -> Vec<Tok> {
    let s = |i: usize| toks.get(i).map_or("", |t| t.s.as_str());
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let test_attr = ["#", "[", "cfg", "(", "test", ")", "]"]
            .iter()
            .enumerate()
            .all(|(k, w)| s(i + k) == *w);
        if !test_attr {
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        // Skip to the item's end: its `;`, or the brace closing its body.
        let mut depth = 0;
        i += 7;
        while i < toks.len() {
            match s(i) {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ";" if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Modules, names and paths

pub(super) type Module = Vec<String>;

/// A path written in a file: where (the module it is written in, the line) and its segments.
#[derive(Debug)]
pub(super) struct Written {
    pub(super) file: usize,
    pub(super) ctx: Module,
    pub(super) path: Vec<String>,
    pub(super) line: usize,
}

/// A file naming another: the file the path names, each that re-exports what it names, and
/// the one that defines it (`defines`).
#[derive(Debug)]
pub(super) struct Edge {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) line: usize,
    pub(super) path: String,
    pub(super) defines: bool,
}

/// What a module brings into scope with `use`: a name (or a glob) for a path.
#[derive(Debug)]
pub(super) struct UseItem {
    pub(super) name: Option<String>,
    pub(super) glob: bool,
    pub(super) path: Vec<String>,
}

/// A crate read as text: its files, modules (inline ones too), the items each defines, what
/// each `use`s, and every path written in it.
pub(super) struct Crate {
    pub(super) files: Vec<(String, Vec<Tok>)>,
    pub(super) modules: HashMap<Module, usize>,
    pub(super) defs: HashMap<Module, BTreeSet<String>>,
    pub(super) uses: HashMap<Module, Vec<UseItem>>,
    pub(super) paths: Vec<Written>,
    /// Names the crate gives itself (`extern crate self as name;`), read as `crate`.
    pub(super) aliases: BTreeSet<String>,
}

/// The module a file is, from its path under the crate's folder (`lib.rs`/`main.rs` the root,
/// `a/mod.rs` and `a.rs` both `a`).
pub(super) fn module_of(rel: &str) -> Module {
    let rel = rel.trim_end_matches(".rs");
    let mut m: Module = rel.split('/').map(String::from).collect();
    if matches!(m.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        m.pop();
    }
    m
}

pub(super) const ITEM_KEYWORDS: &[&str] = &[
    "fn", "struct", "enum", "trait", "type", "const", "static", "union", "mod",
];

pub(super) fn use_tree(
    t: &[Tok],
    mut i: usize,
    mut path: Vec<String>,
    out: &mut Vec<UseItem>,
) -> usize {
    let s = |i: usize| t.get(i).map_or("", |t| t.s.as_str());
    loop {
        match s(i) {
            "::" => i += 1,
            "{" => {
                i += 1;
                while i < t.len() && s(i) != "}" {
                    i = use_tree(t, i, path.clone(), out);
                    if s(i) == "," {
                        i += 1;
                    }
                }
                return i + 1;
            }
            "*" => {
                out.push(UseItem {
                    name: None,
                    glob: true,
                    path,
                });
                return i + 1;
            }
            w if is_ident(w) => {
                path.push(w.to_string());
                i += 1;
                if s(i) == "::" {
                    continue;
                }
                if path.last().is_some_and(|l| l == "self") {
                    path.pop();
                }
                let mut name = path.last().cloned();
                if s(i) == "as" {
                    name = Some(s(i + 1).to_string()).filter(|n| n != "_");
                    i += 2;
                }
                out.push(UseItem {
                    name,
                    glob: false,
                    path,
                });
                return i;
            }
            _ => return i + 1,
        }
    }
}

impl Crate {
    /// Reads `files`, each a path relative to the crate's folder and its text.
    pub(super) fn new(files: &[(String, String)]) -> Crate {
        let mut c = Crate {
            files: Vec::new(),
            modules: HashMap::new(),
            defs: HashMap::new(),
            uses: HashMap::new(),
            paths: Vec::new(),
            aliases: BTreeSet::new(),
        };
        for (n, (rel, text)) in files.iter().enumerate() {
            let toks = lex(text);
            c.modules.insert(module_of(rel), n);
            c.read(n, &module_of(rel), &toks);
            c.files.push((rel.clone(), toks));
        }
        c
    }

    /// Walks one file's tokens, keeping the stack of inline modules and blocks.
    fn read(&mut self, file: usize, top: &Module, t: &[Tok]) {
        let s = |i: usize| t.get(i).map_or("", |t| t.s.as_str());
        // `Some(name)` for an inline module, `None` for any other block.
        let mut stack: Vec<Option<String>> = Vec::new();
        let mut pending_mod: Option<String> = None;
        let ctx = |stack: &[Option<String>]| -> Module {
            let mut m = top.clone();
            m.extend(stack.iter().flatten().cloned());
            m
        };
        let mut i = 0;
        while i < t.len() {
            let module_level = stack.last().is_none_or(Option::is_some);
            match s(i) {
                "{" => {
                    stack.push(pending_mod.take());
                    if let Some(Some(_)) = stack.last() {
                        self.modules.insert(ctx(&stack), file);
                    }
                }
                "}" => {
                    stack.pop();
                }
                ";" => pending_mod = None,
                "extern" if s(i + 1) == "crate" && s(i + 2) == "self" && s(i + 3) == "as" => {
                    self.aliases.insert(s(i + 4).to_string());
                }
                "use" if s(i.wrapping_sub(1)) != "::" => {
                    let mut items = Vec::new();
                    let end = use_tree(t, i + 1, Vec::new(), &mut items);
                    let here = ctx(&stack);
                    for item in &items {
                        self.paths.push(Written {
                            file,
                            ctx: here.clone(),
                            path: item.path.clone(),
                            line: t[i].line,
                        });
                    }
                    if module_level {
                        self.uses.entry(here).or_default().extend(items);
                    }
                    i = end;
                    continue;
                }
                "macro_rules" if module_level && s(i + 1) == "!" => {
                    let name = s(i + 2).to_string();
                    self.defs.entry(ctx(&stack)).or_default().insert(name);
                }
                k if module_level && ITEM_KEYWORDS.contains(&k) => {
                    let name = s(i + 1);
                    if is_ident(name) && !ITEM_KEYWORDS.contains(&name) && name != "_" {
                        self.defs
                            .entry(ctx(&stack))
                            .or_default()
                            .insert(name.to_string());
                        if k == "mod" {
                            pending_mod = Some(name.to_string());
                            if s(i + 2) == ";" {
                                pending_mod = None;
                            }
                        }
                    }
                }
                w if is_ident(w)
                    && s(i + 1) == "::"
                    && !matches!(s(i.wrapping_sub(1)), "::" | ".") =>
                {
                    let mut path = vec![w.to_string()];
                    let mut j = i + 1;
                    while s(j) == "::" && is_ident(s(j + 1)) {
                        path.push(s(j + 1).to_string());
                        j += 2;
                    }
                    self.paths.push(Written {
                        file,
                        ctx: ctx(&stack),
                        path,
                        line: t[i].line,
                    });
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// The absolute module path `path` names when written in `ctx`, or `None` for another
    /// crate's or a local name.
    fn absolute(&self, ctx: &Module, path: &[String], depth: usize) -> Option<Vec<String>> {
        let first = path.first()?;
        let rest = &path[1..];
        let join = |base: &[String], rest: &[String]| {
            let mut v = base.to_vec();
            v.extend_from_slice(rest);
            v
        };
        match first.as_str() {
            "crate" | "$crate" => Some(rest.to_vec()),
            alias if self.aliases.contains(alias) => Some(rest.to_vec()),
            "self" => Some(join(ctx, rest)),
            "super" => {
                let ups = path.iter().take_while(|s| *s == "super").count();
                Some(join(&ctx[..ctx.len().checked_sub(ups)?], &path[ups..]))
            }
            name => {
                if self.modules.contains_key(&join(ctx, &[name.to_string()])) {
                    return Some(join(ctx, path));
                }
                if depth < 16
                    && let Some(item) = self.uses.get(ctx).and_then(|u| {
                        u.iter()
                            .find(|u| !u.glob && u.name.as_deref() == Some(name))
                    })
                {
                    let base = self.absolute(ctx, &item.path, depth + 1)?;
                    return Some(join(&base, rest));
                }
                if self.defs.get(ctx).is_some_and(|d| d.contains(name)) {
                    return Some(join(ctx, path));
                }
                // A name a glob brought in, when the glob's module has it.
                let globs = self.uses.get(ctx).map_or(&[][..], Vec::as_slice);
                for glob in globs.iter().filter(|u| u.glob) {
                    if depth < 16
                        && let Some(base) = self.absolute(ctx, &glob.path, depth + 1)
                        && base.as_slice() != ctx.as_slice()
                        && self.target(&join(&base, &path[..1]), depth + 1, &mut Vec::new())
                    {
                        return Some(join(&base, path));
                    }
                }
                None
            }
        }
    }

    /// The modules a path `abs` (absolute) goes through: the module it names, then each one
    /// that re-exports the name, down to the one that defines it. `true` when it was found
    /// defined (not only the nearest module on the way).
    fn target(&self, abs: &[String], depth: usize, via: &mut Vec<Module>) -> bool {
        let k = (0..=abs.len())
            .rev()
            .find(|k| self.modules.contains_key(&abs[..*k]))
            .unwrap_or(0);
        let module = abs[..k].to_vec();
        via.push(module.clone());
        if k == abs.len() {
            return true;
        }
        let name = &abs[k];
        if self.defs.get(&module).is_some_and(|d| d.contains(name)) || depth > 16 {
            return true;
        }
        let uses = self.uses.get(&module).map_or(&[][..], Vec::as_slice);
        if let Some(item) = uses
            .iter()
            .find(|u| !u.glob && u.name.as_deref() == Some(name.as_str()))
        {
            return match self.absolute(&module, &item.path, depth + 1) {
                Some(mut base) => {
                    base.extend_from_slice(&abs[k + 1..]);
                    self.target(&base, depth + 1, via)
                }
                // Another crate's item, re-exported here: the path names this module.
                None => true,
            };
        }
        for glob in uses.iter().filter(|u| u.glob) {
            if let Some(mut base) = self.absolute(&module, &glob.path, depth + 1) {
                base.extend_from_slice(&abs[k..]);
                let before = via.len();
                if self.target(&base, depth + 1, via) {
                    return true;
                }
                via.truncate(before);
            }
        }
        false
    }

    /// Every edge between two files.
    pub(super) fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        for w in &self.paths {
            let Some(abs) = self.absolute(&w.ctx, &w.path, 0) else {
                continue;
            };
            let mut via = Vec::new();
            self.target(&abs, 0, &mut via);
            let mut files: Vec<usize> = via.iter().map(|m| self.modules[m]).collect();
            files.dedup();
            let definer = files.last().copied();
            for to in files.into_iter().filter(|to| *to != w.file) {
                out.push(Edge {
                    from: w.file,
                    to,
                    line: w.line,
                    path: w.path.join("::"),
                    defines: Some(to) == definer,
                });
            }
        }
        out
    }
}
