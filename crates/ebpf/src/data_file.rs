//! The `.data` test-file format of bpf_conformance and ubpf.
//!
//! A file is a sequence of sections, each opened by a `-- name` line:
//!
//! | section | content |
//! |---|---|
//! | `-- asm` / `-- asm @ FILE` | assembler text (inline or from FILE, relative to the `.data` file) |
//! | `-- raw` | instruction slots: `0x`-prefixed 64-bit little-endian words, or hex bytes (8 per slot) |
//! | `-- mem` / `-- mem @ FILE` | input memory as hex bytes; groups like `0026` and tcpdump `0x0010:` offsets are accepted |
//! | `-- result` | expected r0: hex with `0x`, else decimal |
//! | `-- error` / `-- error pattern` | an error is expected (text optional; a pattern is a regex) |
//! | `-- pyelf` | an ELF built by ubpf's Python framework: not reproducible here, the case is skipped |
//! | `-- no jit`, `-- no register offset`, `-- c`, `-- description` | informational |
//! | `-- reload` / `-- unload` | ubpf VM life-cycle: load twice / unload then load again |
//!
//! `#` starts a comment everywhere except in `asm` (the assembler strips its
//! own comments, so its error line numbers stay those of the file), `c`,
//! `description` and `pyelf`. Lines before the first section (licence headers)
//! must be comments or blank. Any other `-- directive` is an error.

use crate::insn::{insns_from_bytes, Insn};
use std::path::{Path, PathBuf};

/// Assembler text with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmSource {
    pub text: String,
    /// File holding the text (the `.data` file or an `@` include).
    pub path: PathBuf,
    /// Line of `path` where `text` starts (1-based), to map assembler errors.
    pub first_line: usize,
}

/// An expected error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedError {
    /// The message of the reference implementation (compared loosely).
    pub text: String,
    /// True for `-- error pattern` (a regular expression).
    pub pattern: bool,
}

/// What running the case should produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The program returns this r0.
    Result(u64),
    /// Loading, verifying or running fails (message optional).
    Error(Option<ExpectedError>),
    /// Nothing to run: the case only checks that `asm` assembles to `raw`.
    AssembleOnly,
}

/// ubpf's VM life-cycle variants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lifecycle {
    /// Load once, run.
    #[default]
    Load,
    /// Load, then load again into the same VM (ubpf refuses this).
    Reload,
    /// Load, unload, load again, run.
    UnloadReload,
}

/// One parsed `.data` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// File stem, e.g. `add64`.
    pub name: String,
    pub path: PathBuf,
    pub description: Option<String>,
    pub asm: Option<AsmSource>,
    /// `-- raw` slots; when both are given the runner checks `asm` encodes to them.
    pub raw: Option<Vec<Insn>>,
    pub mem: Vec<u8>,
    pub expect: Expect,
    /// Why the case cannot run here (`-- pyelf`).
    pub skip: Option<String>,
    /// `-- no jit` reason (ubpf's JIT lacks a check its interpreter has).
    pub no_jit: Option<String>,
    pub lifecycle: Lifecycle,
}

/// What is wrong with a `.data` file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataFileErrorKind {
    #[error("cannot read {path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("unknown directive `-- {0}`")]
    UnknownDirective(String),
    #[error("text before the first section: `{0}`")]
    StrayText(String),
    #[error("section `-- {0}` appears twice")]
    DuplicateSection(String),
    #[error("invalid hex `{0}`")]
    BadHex(String),
    #[error("raw instructions are {0} bytes, not a multiple of 8")]
    RaggedRaw(usize),
    #[error("invalid result `{0}`")]
    BadResult(String),
    #[error("no program (`-- asm` or `-- raw`)")]
    NoProgram,
    #[error("no expectation (`-- result` or `-- error`)")]
    NoExpectation,
}

/// A `.data` parse error with its location.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {kind}", path.display())]
pub struct DataFileError {
    pub path: PathBuf,
    /// 1-based line (0 when the error concerns the whole file).
    pub line: usize,
    pub kind: DataFileErrorKind,
}

/// Reads and parses the `.data` file at `path` (includes are read relative to it).
pub fn load(path: &Path) -> Result<TestCase, DataFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataFileError {
        path: path.to_path_buf(),
        line: 0,
        kind: DataFileErrorKind::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    })?;
    parse(path, &text)
}

/// One `-- name [@ file]` section and its lines.
struct Section<'a> {
    name: &'a str,
    include: Option<&'a str>,
    header_line: usize,
    lines: Vec<&'a str>,
}

/// Parses `.data` text; `path` names the file for errors and resolves includes.
pub fn parse(path: &Path, text: &str) -> Result<TestCase, DataFileError> {
    let err = |line, kind| DataFileError {
        path: path.to_path_buf(),
        line,
        kind,
    };
    let mut sections: Vec<Section> = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(header) = line.strip_prefix("--") {
            let (name, include) = match header.split_once('@') {
                Some((n, f)) => (n.trim(), Some(f.trim())),
                None => (header.trim(), None),
            };
            sections.push(Section {
                name,
                include,
                header_line: idx + 1,
                lines: vec![],
            });
        } else if let Some(s) = sections.last_mut() {
            s.lines.push(line);
        } else if !strip_hash(line).trim().is_empty() {
            return Err(err(idx + 1, DataFileErrorKind::StrayText(line.to_string())));
        }
    }

    let mut case = TestCase {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: path.to_path_buf(),
        description: None,
        asm: None,
        raw: None,
        mem: vec![],
        expect: Expect::AssembleOnly,
        skip: None,
        no_jit: None,
        lifecycle: Lifecycle::Load,
    };
    let mut result = None;
    let mut error = None;
    let mut seen: Vec<&str> = Vec::new();
    for s in &sections {
        let line = s.header_line;
        if seen.contains(&s.name) {
            return Err(err(
                line,
                DataFileErrorKind::DuplicateSection(s.name.to_string()),
            ));
        }
        seen.push(s.name);
        let (body, body_path, first_line) = match s.include {
            Some(file) => {
                let inc = path.parent().unwrap_or(Path::new(".")).join(file);
                let text = std::fs::read_to_string(&inc).map_err(|e| {
                    err(
                        line,
                        DataFileErrorKind::Io {
                            path: inc.clone(),
                            message: e.to_string(),
                        },
                    )
                })?;
                (text, inc, 1)
            }
            None => (s.lines.join("\n"), path.to_path_buf(), line + 1),
        };
        let informational = || {
            let t = body.trim();
            (!t.is_empty()).then(|| t.to_string())
        };
        match s.name {
            "asm" => {
                case.asm = Some(AsmSource {
                    text: body.clone(),
                    path: body_path,
                    first_line,
                })
            }
            "raw" => {
                let insns = parse_raw(&body).map_err(|k| err(line, k))?;
                case.raw = Some(insns);
            }
            "mem" => case.mem = parse_hex_bytes(&body).map_err(|k| err(line, k))?,
            "result" => result = Some(parse_result(&body).map_err(|k| err(line, k))?),
            "error" | "error pattern" => {
                let text = body
                    .lines()
                    .map(|l| strip_hash(l).trim())
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                error = Some((!text.is_empty()).then_some(ExpectedError {
                    text,
                    pattern: s.name == "error pattern",
                }));
            }
            "pyelf" => {
                case.skip = Some("`-- pyelf`: the ELF is built by ubpf's Python framework".into())
            }
            "no jit" => case.no_jit = Some(informational().unwrap_or_default()),
            "description" => case.description = informational(),
            "c" | "no register offset" => {}
            "reload" => case.lifecycle = Lifecycle::Reload,
            "unload" => case.lifecycle = Lifecycle::UnloadReload,
            other => {
                return Err(err(
                    line,
                    DataFileErrorKind::UnknownDirective(other.to_string()),
                ))
            }
        }
    }
    // ubpf error cases also list the value its VM returns on failure; the
    // error is the expectation.
    case.expect = match (error, result) {
        (Some(e), _) => Expect::Error(e),
        (None, Some(v)) => Expect::Result(v),
        (None, None) if case.asm.is_some() && case.raw.is_some() => Expect::AssembleOnly,
        (None, None) if case.skip.is_some() => Expect::Error(None),
        (None, None) => return Err(err(0, DataFileErrorKind::NoExpectation)),
    };
    if case.asm.is_none() && case.raw.is_none() && case.skip.is_none() {
        return Err(err(0, DataFileErrorKind::NoProgram));
    }
    Ok(case)
}

fn strip_hash(line: &str) -> &str {
    line.split('#').next().unwrap_or("")
}

fn parse_result(body: &str) -> Result<u64, DataFileErrorKind> {
    let words: Vec<&str> = body
        .lines()
        .flat_map(|l| strip_hash(l).split_whitespace())
        .collect();
    let [word] = words[..] else {
        return Err(DataFileErrorKind::BadResult(body.trim().to_string()));
    };
    let bad = || DataFileErrorKind::BadResult(word.to_string());
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).map_err(|_| bad())
    } else if let Some(neg) = word.strip_prefix('-') {
        neg.parse::<i64>()
            .map(|v| v.wrapping_neg() as u64)
            .map_err(|_| bad())
    } else {
        word.parse::<u64>().map_err(|_| bad())
    }
}

/// Hex bytes: each token is an even number of hex digits (`00`, `0026`,
/// read in order); tcpdump-style `0x0010:` offset columns are ignored.
pub fn parse_hex_bytes(body: &str) -> Result<Vec<u8>, DataFileErrorKind> {
    let mut out = Vec::new();
    for token in body.lines().flat_map(|l| strip_hash(l).split_whitespace()) {
        if token.ends_with(':') {
            continue;
        }
        if token.len() % 2 != 0 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DataFileErrorKind::BadHex(token.to_string()));
        }
        for pair in token.as_bytes().chunks(2) {
            let s = std::str::from_utf8(pair).expect("ascii hex digits");
            out.push(u8::from_str_radix(s, 16).expect("validated hex"));
        }
    }
    Ok(out)
}

/// `0x`-prefixed tokens are whole 64-bit slots (the slot's little-endian
/// bytes read as one number); other tokens are hex bytes.
fn parse_raw(body: &str) -> Result<Vec<Insn>, DataFileErrorKind> {
    let mut bytes = Vec::new();
    for line in body.lines() {
        let line = strip_hash(line);
        for token in line.split_whitespace() {
            if let Some(hex) = token
                .strip_prefix("0x")
                .or_else(|| token.strip_prefix("0X"))
            {
                let word = u64::from_str_radix(hex, 16)
                    .map_err(|_| DataFileErrorKind::BadHex(token.to_string()))?;
                bytes.extend_from_slice(&word.to_le_bytes());
            } else {
                bytes.extend(parse_hex_bytes(token)?);
            }
        }
    }
    insns_from_bytes(&bytes).map_err(|_| DataFileErrorKind::RaggedRaw(bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::op;

    fn parse_str(text: &str) -> Result<TestCase, DataFileError> {
        parse(Path::new("/nonexistent/t.data"), text)
    }

    #[test]
    fn full_case_with_header_comments() {
        let c = parse_str(
            "# Copyright (c) X\n# SPDX-License-Identifier: MIT\n-- asm\nmov %r0, 1 # c\nexit\n\
             -- mem\n00 01\nff\n-- result\n0x10\n-- no register offset\ncall instruction\n",
        )
        .unwrap();
        let asm = c.asm.unwrap();
        assert_eq!(asm.text, "mov %r0, 1 # c\nexit");
        assert_eq!(asm.first_line, 4);
        assert_eq!(c.mem, [0, 1, 0xff]);
        assert_eq!(c.expect, Expect::Result(16));
        assert_eq!(c.name, "t");
    }

    #[test]
    fn raw_words_and_raw_bytes_mean_the_same_slots() {
        // lddw r0, 0x1122334455667788 as two u64 words (slot bytes read
        // little-endian) and as the equivalent bytes.
        let words = parse_raw("0x5566778800000018\n0x1122334400000000").unwrap();
        let bytes = parse_raw("18 00 00 00 88 77 66 55\n00 00 00 00 44 33 22 11").unwrap();
        assert_eq!(words, bytes);
        assert_eq!(words[0].opc, op::LD | op::IMM | op::DW);
        assert_eq!(words[0].imm as u32, 0x55667788);
        assert_eq!(words[1].imm as u32, 0x11223344);
        assert_eq!(parse_raw("95 00 00"), Err(DataFileErrorKind::RaggedRaw(3)));
    }

    #[test]
    fn tcpdump_hex_is_accepted() {
        let m = parse_hex_bytes("0x0000:  0026 622f\n0x0010:  cfd0 01").unwrap();
        assert_eq!(m, [0x00, 0x26, 0x62, 0x2f, 0xcf, 0xd0, 0x01]);
        assert!(parse_hex_bytes("0g").is_err());
    }

    #[test]
    fn expectations() {
        let c = parse_str("-- raw\n95 00 00 00 00 00 00 00\n-- error\n").unwrap();
        assert_eq!(c.expect, Expect::Error(None));
        let c = parse_str("-- asm\nexit\n-- error pattern\nat PC .*\n-- result\n0x1\n").unwrap();
        assert_eq!(
            c.expect,
            Expect::Error(Some(ExpectedError {
                text: "at PC .*".into(),
                pattern: true
            }))
        );
        let c = parse_str("-- asm\nexit\n-- result\n42\n").unwrap();
        assert_eq!(c.expect, Expect::Result(42));
        let c = parse_str("-- pyelf\n-- result\n0x2a\n").unwrap();
        assert!(c.skip.is_some());
    }

    #[test]
    fn malformed_files_are_errors() {
        let kind = |t: &str| parse_str(t).unwrap_err().kind;
        assert_eq!(
            kind("-- asm\n-- Unknown directive\n"),
            DataFileErrorKind::UnknownDirective("Unknown directive".into())
        );
        assert_eq!(kind(""), DataFileErrorKind::NoExpectation);
        assert_eq!(kind("-- result\n0x0\n"), DataFileErrorKind::NoProgram);
        assert_eq!(kind("-- asm\nexit\n"), DataFileErrorKind::NoExpectation);
        assert!(matches!(
            kind("mov %r0, 1\n"),
            DataFileErrorKind::StrayText(_)
        ));
        assert!(matches!(
            kind("-- asm\nexit\n-- result\nzz\n"),
            DataFileErrorKind::BadResult(_)
        ));
        assert!(matches!(
            kind("-- asm @ missing.asm\n-- result\n1\n"),
            DataFileErrorKind::Io { .. }
        ));
    }
}
