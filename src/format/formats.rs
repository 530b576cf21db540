//! Artifact format detection by magic bytes, then extension (FORMAT.md §7.4).
//!
//! Detection only looks at the first bytes of a file: reg never parses, loads or runs a model.
//! Formats built on Python's pickle run code when loaded, which is why they are flagged.

use serde::{Deserialize, Serialize};

/// How many leading bytes detection looks at.
pub const SNIFF_LEN: usize = 4096;

/// The format vocabulary of FORMAT.md §7.4. Formats order by name, as lists of them are
/// written sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Hugging Face safetensors.
    Safetensors,
    /// llama.cpp GGUF.
    Gguf,
    /// ONNX protobuf.
    Onnx,
    /// TensorFlow Lite flatbuffer.
    Tflite,
    /// HDF5 (Keras `.h5`).
    Hdf5,
    /// NumPy `.npy`.
    Numpy,
    /// PyTorch ZIP checkpoint (holds a pickle).
    Pytorch,
    /// Keras v3 `.keras` ZIP.
    Keras,
    /// Any other ZIP.
    Zip,
    /// Python pickle.
    Pickle,
    /// joblib (pickle-based).
    Joblib,
    /// Detection rules (YARA, Suricata/Snort, Sigma).
    Ruleset,
    /// JSON (configs, tokenizers).
    Json,
    /// YAML.
    Yaml,
    /// Plain text.
    Text,
    /// Anything else.
    Unknown,
}

impl Format {
    /// Every format, for help texts and validation.
    pub const ALL: [Format; 16] = [
        Format::Safetensors,
        Format::Gguf,
        Format::Onnx,
        Format::Tflite,
        Format::Hdf5,
        Format::Numpy,
        Format::Pytorch,
        Format::Keras,
        Format::Zip,
        Format::Pickle,
        Format::Joblib,
        Format::Ruleset,
        Format::Json,
        Format::Yaml,
        Format::Text,
        Format::Unknown,
    ];

    /// The format's name as written in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Format::Safetensors => "safetensors",
            Format::Gguf => "gguf",
            Format::Onnx => "onnx",
            Format::Tflite => "tflite",
            Format::Hdf5 => "hdf5",
            Format::Numpy => "numpy",
            Format::Pytorch => "pytorch",
            Format::Keras => "keras",
            Format::Zip => "zip",
            Format::Pickle => "pickle",
            Format::Joblib => "joblib",
            Format::Ruleset => "ruleset",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Text => "text",
            Format::Unknown => "unknown",
        }
    }

    /// Whether loading a file of this format can run arbitrary code (pickle-based formats).
    pub fn runs_code_when_loaded(self) -> bool {
        matches!(self, Format::Pytorch | Format::Pickle | Format::Joblib)
    }

    /// Parses a format name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl Ord for Format {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl PartialOrd for Format {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Detects the format of a file from its path and its first bytes (up to [`SNIFF_LEN`]).
pub fn detect(path: &str, head: &[u8]) -> Format {
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    // First, before any magic bytes: a pickle's opcode arguments can hold another format's
    // magic, and a pickle runs code when loaded whatever it resembles.
    if crate::format::pickle::is_pickle(head, head.len() < SNIFF_LEN) {
        return Format::Pickle;
    }
    if head.starts_with(b"GGUF") {
        return Format::Gguf;
    }
    if head.len() >= 4 && &head[4..head.len().min(8)] == b"TFL3" {
        return Format::Tflite;
    }
    if head.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Format::Hdf5;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Format::Numpy;
    }
    if head.starts_with(b"PK\x03\x04") {
        // PyTorch's zip holds its pickle as `<name>/data.pkl`, first: a pickle archive whatever
        // the file is called.
        if zip_first_name(head).is_some_and(|n| n.ends_with(b"data.pkl")) {
            return Format::Pytorch;
        }
        return match ext.as_str() {
            "pt" | "pth" | "bin" | "ckpt" => Format::Pytorch,
            "keras" => Format::Keras,
            _ => Format::Zip,
        };
    }
    if is_safetensors(head) {
        return Format::Safetensors;
    }
    if ext == "joblib" {
        return Format::Joblib;
    }
    if matches!(ext.as_str(), "pkl" | "pickle")
        || (head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]))
    {
        return Format::Pickle;
    }
    if ext == "onnx" && head.first() == Some(&0x08) {
        return Format::Onnx;
    }
    match ext.as_str() {
        "yar" | "yara" | "rules" | "sigma" => Format::Ruleset,
        "json" => Format::Json,
        "yaml" | "yml" => Format::Yaml,
        "txt" | "md" | "csv" | "tsv" => Format::Text,
        _ => Format::Unknown,
    }
}

/// The name of a zip's first local file entry, from its header (30 bytes, then the name).
fn zip_first_name(head: &[u8]) -> Option<&[u8]> {
    let len = usize::from(u16::from_le_bytes([*head.get(26)?, *head.get(27)?]));
    head.get(30..30 + len)
}

/// safetensors: an 8-byte little-endian header length, then a JSON object.
fn is_safetensors(head: &[u8]) -> bool {
    if head.len() < 10 {
        return false;
    }
    let len = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
    (2..100_000_000).contains(&len) && head[8] == b'{'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic_then_extension() {
        let mut st = 14u64.to_le_bytes().to_vec();
        st.extend_from_slice(br#"{"a":{"b":1}}"#);
        assert_eq!(detect("w/model.safetensors", &st), Format::Safetensors);
        assert_eq!(detect("m.gguf", b"GGUF\x03\0\0\0"), Format::Gguf);
        assert_eq!(detect("m.tflite", b"\x1c\0\0\0TFL3"), Format::Tflite);
        assert_eq!(detect("m.h5", b"\x89HDF\r\n\x1a\n\0"), Format::Hdf5);
        assert_eq!(detect("m.pt", b"PK\x03\x04rest"), Format::Pytorch);
        assert_eq!(detect("m.keras", b"PK\x03\x04rest"), Format::Keras);
        assert_eq!(detect("m.zip", b"PK\x03\x04rest"), Format::Zip);
        // A pickle is a pickle whatever it is called.
        assert_eq!(detect("weights.bin", b"\x80\x04\x95"), Format::Pickle);
        assert_eq!(detect("model.joblib", b"\x80\x04\x95"), Format::Joblib);
        assert_eq!(detect("m.onnx", b"\x08\x07\x12"), Format::Onnx);
        assert_eq!(detect("rules/ransom.yar", b"rule x {}"), Format::Ruleset);
        assert_eq!(detect("tokenizer.json", b"{}"), Format::Json);
        assert_eq!(detect("README", b"hello"), Format::Unknown);
        // Pickles of every protocol, whatever they are called, however they start, even with
        // another format's magic bytes inside an opcode's argument (the red team's cases).
        for pickle in [
            &b"cos\nsystem\n(S'echo pwned'\ntR."[..],
            b"(dp0\nS'a'\np1\nI1\ns.",
            b"(lp0\nI1\na.",
            b"}q\x00(X\x01\x00\x00\x00aq\x01K\x01u.",
            b"]q\x00K\x01a.",
            b"\x80\x01cos\nsystem\n(S'touch x'\ntR.",
            b"\x80\x00cos\nsystem\n(S'touch x'\ntR.",
            b"N0cos\nsystem\n(S'touch x'\ntR.",
            b"((cos\nsystem\n(S'touch x'\ntR.",
            b"\x8c\x02os\x8c\x06system\x93\x8c\x07touch x\x85R.",
            b"cos\nsystem\nU\x07touch x\x85R.",
            b"\x80\x02U\x04TFL30cos\nsystem\n(S'touch x'\ntR.",
            b"GGUF\0\0\0\0\x000cos\nsystem\n(S'touch x'\ntR.",
            b"\x80\x02T\x02\0\0\0\0{0cos\nsystem\n(S'touch x'\ntR.",
        ] {
            assert_eq!(detect("model.bin", pickle), Format::Pickle, "{pickle:?}");
            assert_eq!(detect("notes.txt", pickle), Format::Pickle, "{pickle:?}");
        }
        // A long pickle read only in part: its first opcodes call an object.
        let mut long = b"\x80\x04\x95\x00\x10\0\0\0\0\0\0\x8c\x05numpy\x94\x8c\x05array\x94\x93B\x00\x00\x01\x00".to_vec();
        long.resize(SNIFF_LEN, 0);
        assert_eq!(detect("w.bin", &long), Format::Pickle);
        // Text that merely looks alike is not one (a labels file starting with `c`).
        for text in [
            &b"car\ncat\ndog\n"[..],
            b"cat\ndog\nbird\n",
            b"changes\nsummary\nSee below.\n",
            b"c\nx\n(",
            b"(default) value\n",
            b"config\nname\n\n",
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }                                                         \n",
        ] {
            assert_ne!(detect("notes.txt", text), Format::Pickle, "{text:?}");
        }
        // A PyTorch zip is one whatever it is called: its first entry is `<name>/data.pkl`.
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&[0; 22]);
        zip.extend_from_slice(&14u16.to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip.extend_from_slice(b"model/data.pkl");
        assert_eq!(detect("weights.zip", &zip), Format::Pytorch);
        assert!(Format::Pickle.runs_code_when_loaded());
        assert!(!Format::Safetensors.runs_code_when_loaded());
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
    }
}
