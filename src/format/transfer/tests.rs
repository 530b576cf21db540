//! The codec's unit tests: round trips, every truncation and flipped byte, the limits, and the
//! writer refusing what a reader would.

use super::*;
use crate::crypto::envelope::{self, Kind};
use crate::crypto::keys::SecretKey;
use crate::format::checkpoint::Checkpoint;
use crate::util::encoding::to_canonical_vec;

/// A small consistent transfer: two entries (base at seq 4), one record, two artifacts.
struct Parts {
    header: Header,
    checkpoint: Vec<u8>,
    ids: Vec<ObjectId>,
    frames: Vec<(ObjectKind, Vec<u8>)>,
}

fn parts() -> Parts {
    let body = |s: &str| s.as_bytes().to_vec();
    let frames = vec![
        (ObjectKind::Record, body("a record")),
        (ObjectKind::Entry, body("entry 5")),
        (ObjectKind::Entry, body("entry 6")),
        (ObjectKind::Artifact, vec![7u8; 200_000]),
        (ObjectKind::Artifact, body("")),
    ];
    let ids = vec![ObjectId::of(&frames[1].1), ObjectId::of(&frames[2].1)];
    let registry = ObjectId::of(b"genesis");
    let head = Point {
        head: ids[1],
        seq: 6,
    };
    let key = SecretKey::from_seed(&[9u8; 32]).unwrap();
    let cp = Checkpoint {
        head: head.head,
        registry,
        seq: head.seq,
        state: ObjectId::of(b"state"),
        time: "2026-01-01T00:00:00Z".into(),
    };
    let checkpoint = envelope::sign(Kind::Checkpoint, &cp, &key).unwrap();
    let header = Header {
        base: Some(Point {
            head: ObjectId::of(b"entry 4"),
            seq: 4,
        }),
        bytes: frames.iter().map(|(_, b)| b.len() as u64).sum(),
        head,
        objects: frames.len() as u64,
        registry,
    };
    Parts {
        header,
        checkpoint,
        ids,
        frames,
    }
}

fn encode(p: &Parts) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), &p.header, &p.checkpoint, &p.ids).unwrap();
    for (kind, bytes) in &p.frames {
        w.object(
            *kind,
            &ObjectId::of(bytes),
            bytes.len() as u64,
            &mut &bytes[..],
        )
        .unwrap();
    }
    w.finish().unwrap()
}

/// Reads a whole file; returns its parts or the first error.
fn decode(bytes: &[u8]) -> Result<Parts, TransferError> {
    let mut r = Reader::open(bytes)?;
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame()? {
        let mut body = Vec::new();
        r.copy_body(&mut body)?;
        frames.push((f.kind, body));
    }
    Ok(Parts {
        header: r.header().clone(),
        checkpoint: r.checkpoint().to_vec(),
        ids: r.entry_ids().to_vec(),
        frames,
    })
}

#[test]
fn a_transfer_round_trips_byte_for_byte() {
    let p = parts();
    let bytes = encode(&p);
    assert!(bytes.starts_with(MAGIC));
    let back = decode(&bytes).unwrap();
    assert_eq!(back.header, p.header);
    assert_eq!(back.checkpoint, p.checkpoint);
    assert_eq!(back.ids, p.ids);
    assert_eq!(back.frames, p.frames);
    assert_eq!(encode(&back), bytes);
}

#[test]
fn a_full_transfer_starts_with_genesis() {
    let mut p = parts();
    p.header.base = None;
    p.header.head.seq = 1;
    p.header.registry = p.ids[0];
    let key = SecretKey::from_seed(&[9u8; 32]).unwrap();
    let cp = Checkpoint {
        head: p.ids[1],
        registry: p.ids[0],
        seq: 1,
        state: ObjectId::of(b"state"),
        time: "2026-01-01T00:00:00Z".into(),
    };
    p.checkpoint = envelope::sign(Kind::Checkpoint, &cp, &key).unwrap();
    let bytes = encode(&p);
    assert_eq!(decode(&bytes).unwrap().header.base, None);
    // The same file claiming another registry: its first entry is not that genesis.
    p.header.registry = ObjectId::of(b"other");
    let e = Writer::new(Vec::new(), &p.header, &p.checkpoint, &p.ids)
        .err()
        .unwrap();
    assert!(matches!(e, TransferError::Checkpoint(_)), "{e}");
}

#[test]
fn every_truncation_is_refused() {
    let bytes = encode(&parts());
    // Every cut in the small part; in the 200 kB artifact, a sample.
    let cuts = (0..bytes.len()).filter(|i| *i < 2000 || *i % 997 == 0 || *i > bytes.len() - 200);
    for len in cuts {
        let e = decode(&bytes[..len])
            .err()
            .unwrap_or_else(|| panic!("{len}"));
        let ok = if len < MAGIC.len() {
            matches!(e, TransferError::BadMagic)
        } else {
            matches!(e, TransferError::Truncated(_))
        };
        assert!(ok, "cut at {len}: {e}");
    }
    let e = decode(&bytes[..bytes.len() - 1]).err().unwrap();
    assert_eq!(
        e.to_string(),
        "the transfer file is truncated: it ends inside the trailer"
    );
}

#[test]
fn every_flipped_byte_is_refused() {
    let bytes = encode(&parts());
    // Every byte of the small part; in the 200 kB artifact, a sample.
    let positions: Vec<usize> = (0..bytes.len())
        .filter(|i| *i < 2000 || *i % 997 == 0 || *i > bytes.len() - 200)
        .collect();
    for i in positions {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        assert!(decode(&b).is_err(), "a flip at {i} was not noticed");
    }
}

#[test]
fn a_wrong_magic_or_version_is_refused_first() {
    let bytes = encode(&parts());
    let mut b = bytes.clone();
    b[1] = b'R';
    assert!(matches!(decode(&b), Err(TransferError::BadMagic)));
    assert!(matches!(
        decode(b"PK\x03\x04 a zip file"),
        Err(TransferError::BadMagic)
    ));
    for (v, text) in [
        (
            2u32,
            "transfer format version 2 is not one this reg reads (it reads version 1)",
        ),
        (
            0,
            "transfer format version 0 is not one this reg reads (it reads version 1)",
        ),
    ] {
        let mut b = bytes.clone();
        b[17..21].copy_from_slice(&v.to_be_bytes());
        let e = decode(&b).err().unwrap();
        assert_eq!(e.to_string(), text);
    }
}

#[test]
fn a_bad_object_is_named_by_the_reader() {
    let p = parts();
    let bytes = encode(&p);
    // A byte in the middle of the first artifact's body (200,000 bytes of 7s).
    let at = bytes.windows(64).position(|w| w == [7u8; 64]).unwrap() + 1000;
    let mut b = bytes.clone();
    b[at] = 8;
    let e = decode(&b).err().unwrap();
    assert!(
        matches!(e, TransferError::HashMismatch { index: 3, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("the transfer file is corrupt"),
        "{e}"
    );
    // Bytes after the trailer.
    let mut b = bytes.clone();
    b.push(0);
    assert_eq!(
        decode(&b).err().unwrap().to_string(),
        "transfer trailer: bytes follow the trailer"
    );
}

/// Offset of frame `k`'s header in an encoded `parts()` file.
fn frame_offset(p: &Parts, bytes: &[u8], k: usize) -> usize {
    let json = to_canonical_vec(&p.header).unwrap();
    let mut at = MAGIC.len() + 8 + json.len() + 4 + p.checkpoint.len() + 32 * p.ids.len();
    for (_, body) in &p.frames[..k] {
        at += FRAME_HEADER_LEN + body.len();
    }
    assert_eq!(bytes[at], p.frames[k].0.byte());
    at
}

#[test]
fn oversized_lengths_are_refused_before_reading_them() {
    let p = parts();
    let bytes = encode(&p);
    // A header length over the limit: refused from the length, nothing echoed.
    let mut b = bytes.clone();
    b[21..25].copy_from_slice(&(MAX_HEADER + 1).to_be_bytes());
    let e = decode(&b).err().unwrap();
    assert_eq!(
        e.to_string(),
        format!(
            "the header is {} bytes, over the limit of {MAX_HEADER}",
            MAX_HEADER + 1
        )
    );
    // An entry frame announcing 2 MiB.
    let at = frame_offset(&p, &bytes, 1);
    let mut b = bytes.clone();
    b[at + 33..at + 41].copy_from_slice(&(2u64 << 20).to_be_bytes());
    let e = decode(&b).err().unwrap();
    assert!(
        matches!(e, TransferError::TooLarge { size, .. } if size == 2 << 20),
        "{e}"
    );
    // An artifact frame announcing more than the header's byte count leaves.
    let at = frame_offset(&p, &bytes, 3);
    let mut b = bytes.clone();
    b[at + 33..at + 41].copy_from_slice(&(1u64 << 30).to_be_bytes());
    let e = decode(&b).err().unwrap();
    assert!(e.to_string().contains("more than the"), "{e}");
    // A header announcing more entries than the limit.
    let mut h = p.header.clone();
    h.head.seq = MAX_ENTRIES + 10;
    assert!(matches!(h.check(), Err(TransferError::TooMany { .. })));
}

#[test]
fn a_header_error_never_echoes_an_oversized_input() {
    let p = parts();
    let mut value = serde_json::to_value(&p.header).unwrap();
    value["x".repeat(10_000)] = serde_json::Value::from(1);
    let json = to_canonical_vec(&value).unwrap();
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&VERSION.to_be_bytes());
    b.extend_from_slice(&(json.len() as u32).to_be_bytes());
    b.extend_from_slice(&json);
    let e = decode(&b).err().unwrap().to_string();
    assert!(e.starts_with("transfer header: "), "{e}");
    assert!(e.len() < 400 && !e.contains('\n'), "{} bytes: {e}", e.len());
}

#[test]
fn the_writer_refuses_what_a_reader_would() {
    let p = parts();
    let writer = || Writer::new(Vec::new(), &p.header, &p.checkpoint, &p.ids).unwrap();
    // A body whose bytes are not its id.
    let mut w = writer();
    let e = w
        .object(ObjectKind::Record, &ObjectId::of(b"x"), 1, &mut &b"y"[..])
        .err()
        .unwrap();
    assert!(e.to_string().contains("the source is corrupt"), "{e}");
    // A source shorter than announced.
    let mut w = writer();
    let e = w
        .object(
            ObjectKind::Record,
            &ObjectId::of(b"abc"),
            3,
            &mut &b"ab"[..],
        )
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        format!(
            "object {}: the source ended after 2 of 3 bytes",
            ObjectId::of(b"abc")
        )
    );
    // An entry out of order, an artifact before the entries, a record after them.
    let mut w = writer();
    let e2 = &p.frames[2].1;
    let e = w
        .object(
            ObjectKind::Entry,
            &ObjectId::of(e2),
            e2.len() as u64,
            &mut &e2[..],
        )
        .err()
        .unwrap();
    assert!(e.to_string().contains("where the next entry is"), "{e}");
    let a = &p.frames[4].1;
    let e = w
        .object(ObjectKind::Artifact, &ObjectId::of(a), 0, &mut &a[..])
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("artifacts follow every entry"),
        "{e}"
    );
    // Missing frames at the end.
    let e = writer().finish().err().unwrap();
    assert_eq!(e.to_string(), "transfer trailer: 0 of 5 object frames");
    // The same object twice.
    let mut w = writer();
    let r = &p.frames[0].1;
    let id = ObjectId::of(r);
    w.object(ObjectKind::Record, &id, r.len() as u64, &mut &r[..])
        .unwrap();
    let e = w
        .object(ObjectKind::Record, &id, r.len() as u64, &mut &r[..])
        .err()
        .unwrap();
    assert!(e.to_string().contains("appears twice"), "{e}");
    // A checkpoint of another head.
    let mut h = p.header.clone();
    h.head.seq = 7;
    let e = Writer::new(Vec::new(), &h, &p.checkpoint, &p.ids)
        .err()
        .unwrap();
    assert!(matches!(e, TransferError::Checkpoint(_)), "{e}");
}

/// A seekable stream that counts the bytes read from it.
struct Counted {
    inner: io::Cursor<Vec<u8>>,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl io::Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl io::Seek for Counted {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn a_skipped_frame_is_not_read_and_the_file_is_still_checked_to_its_end() {
    let p = parts();
    let bytes = encode(&p);
    let total = bytes.len() as u64;
    let read = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut r = Reader::open(Counted {
        inner: io::Cursor::new(bytes.clone()),
        read: read.clone(),
    })
    .unwrap();
    let mut skipped = 0;
    while let Some(f) = r.next_frame().unwrap() {
        if f.kind == ObjectKind::Artifact {
            skipped += r.skip_body().unwrap().saturating_sub(1);
        } else {
            r.copy_body(&mut io::sink()).unwrap();
        }
    }
    assert_eq!(skipped, 200_000 - 1);
    assert_eq!(
        read.get(),
        total - skipped,
        "only the last byte of a skipped frame is read"
    );

    // A frame that announces more than the file holds (here, 1 GiB where the file ends) is a
    // truncation naming it, found without reading it.
    let mut h = p.header.clone();
    h.bytes += 1 << 30;
    let mut b = Vec::new();
    let mut w = Writer::new(&mut b, &h, &p.checkpoint, &p.ids).unwrap();
    for (kind, body) in &p.frames[..4] {
        w.object(
            *kind,
            &ObjectId::of(body),
            body.len() as u64,
            &mut &body[..],
        )
        .unwrap();
    }
    drop(w);
    let last = Frame {
        kind: ObjectKind::Artifact,
        id: ObjectId::of(b""),
        len: 1 << 30,
    };
    b.extend_from_slice(&last.encode());
    let mut r = Reader::open(io::Cursor::new(b)).unwrap();
    for _ in 0..4 {
        r.next_frame().unwrap().unwrap();
        r.skip_body().unwrap();
    }
    assert_eq!(r.next_frame().unwrap(), Some(last));
    let e = r.skip_body().err().unwrap();
    assert_eq!(
        e.to_string(),
        format!(
            "the transfer file is truncated: it ends inside object frame 4 (artifact {}), which announces 1073741824 bytes",
            last.id
        )
    );
}

#[test]
fn a_frame_neither_copied_nor_skipped_is_never_read_through() {
    let p = parts();
    let bytes = encode(&p);
    let mut r = Reader::open(&bytes[..]).unwrap();
    assert!(r.next_frame().unwrap().is_some());
    let e = r.next_frame().err().unwrap();
    assert!(
        e.to_string().contains("were neither read nor skipped"),
        "{e}"
    );
}
