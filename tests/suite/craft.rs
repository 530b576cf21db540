//! Crafting bundles byte by byte: signed manifests over chosen artifacts, and tars with any
//! entry a hostile publisher (or whoever holds the medium) could write, including those the
//! `tar` crate's builder refuses to write.

#![allow(dead_code)]

use crate::util::{Sandbox, tool};
use reg::crypto::keys::SecretKey;
use reg::format::formats;
use reg::format::manifest::{Artifact, Manifest};
use std::process::Command;

/// A file of a model: its bundle path and bytes.
pub struct File {
    pub path: String,
    pub data: Vec<u8>,
}

pub fn file(path: &str, data: &[u8]) -> File {
    File {
        path: path.to_string(),
        data: data.to_vec(),
    }
}

/// The manifest for `files`, named `name@version`, as `reg bundle pack` would write it.
pub fn manifest_for(files: &[File], name: &str, version: &str, publisher: &SecretKey) -> Manifest {
    let mut artifacts: Vec<Artifact> = files
        .iter()
        .map(|f| Artifact {
            blake3: blake3::hash(&f.data).to_hex().to_string(),
            format: formats::detect(&f.path, &f.data[..f.data.len().min(4096)]),
            path: f.path.clone(),
            size: f.data.len() as u64,
        })
        .collect();
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    Manifest {
        artifacts,
        created: "2026-01-01T00:00:00Z".into(),
        description: "a crafted test model".into(),
        framework: None,
        labels: Default::default(),
        license: None,
        name: name.into(),
        owner: None,
        provenance: vec![],
        publisher: publisher.public().fingerprint().clone(),
        model_type: "ML".into(),
        uses: vec!["classification".into()],
        version: version.into(),
    }
}

pub fn sign(m: &Manifest, key: &SecretKey) -> Vec<u8> {
    reg::format::manifest::sign(m, key).unwrap()
}

pub fn load(s: &Sandbox, name: &str) -> SecretKey {
    reg::crypto::keys::load_secret(&s.join(name), &mut |_| None).unwrap()
}

/// A 512-byte ustar header.
pub fn header(name: &[u8], size: u64, typeflag: u8, linkname: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    assert!(
        name.len() <= 100,
        "use a PAX or GNU long name for longer names"
    );
    h[..name.len()].copy_from_slice(name);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"15122000000\0");
    h[156] = typeflag;
    h[157..157 + linkname.len()].copy_from_slice(linkname);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// Builds a tar from raw pieces.
#[derive(Default)]
pub struct Tar {
    pub bytes: Vec<u8>,
}

impl Tar {
    pub fn new() -> Self {
        Tar::default()
    }

    /// An entry with a header saying `size` and `data` as content (they may disagree on purpose).
    pub fn raw(
        mut self,
        name: &[u8],
        typeflag: u8,
        size: u64,
        data: &[u8],
        linkname: &[u8],
    ) -> Self {
        self.bytes
            .extend_from_slice(&header(name, size, typeflag, linkname));
        self.bytes.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.bytes.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub fn file(self, name: &str, data: &[u8]) -> Self {
        self.raw(name.as_bytes(), b'0', data.len() as u64, data, b"")
    }

    pub fn manifest(self, signed: &[u8]) -> Self {
        self.file("reg-manifest.json", signed)
    }

    /// A PAX extended header applying `records` to the next entry.
    pub fn pax(self, records: &[(&str, &[u8])]) -> Self {
        let mut data = Vec::new();
        for (k, v) in records {
            let body_len = k.len() + v.len() + 3; // space, '=', newline
            let mut len = body_len + 1;
            while len.to_string().len() + body_len != len {
                len = len.to_string().len() + body_len;
            }
            data.extend_from_slice(format!("{len} {k}=").as_bytes());
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        let size = data.len() as u64;
        self.raw(b"PaxHeader", b'x', size, &data, b"")
    }

    /// A GNU long-name entry applying `name` to the next entry.
    pub fn gnu_long_name(self, name: &[u8]) -> Self {
        let mut data = name.to_vec();
        data.push(0);
        let size = data.len() as u64;
        self.raw(b"././@LongLink", b'L', size, &data, b"")
    }

    /// The end-of-archive marker: two zero blocks.
    pub fn end(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0u8; 1024]);
        self.bytes
    }
}

/// A plain, well-formed tar of a signed manifest and its files.
pub fn good_tar(signed: &[u8], files: &[File]) -> Vec<u8> {
    let mut t = Tar::new().manifest(signed);
    for f in files {
        t = t.file(&f.path, &f.data);
    }
    t.end()
}

/// What an independent tar reader (Python's `tarfile`) sees in an archive: (name bytes, type, size).
pub fn python_list(path: &std::path::Path) -> Vec<(Vec<u8>, u8, u64)> {
    const SCRIPT: &str = r#"
import sys, tarfile, json
out = []
with tarfile.open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as t:
    for m in t:
        out.append([m.name.encode("utf-8", "surrogateescape").hex(), ord(m.type), m.size])
print(json.dumps(out))
"#;
    let out = Command::new(tool("python3", "python3"))
        .arg("-c")
        .arg(SCRIPT)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python tarfile: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, u8, u64)> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter()
        .map(|(hex, t, size)| {
            let name = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (name, t, size)
        })
        .collect()
}
