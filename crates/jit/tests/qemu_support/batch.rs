//! The batch file `native/harness.c` reads (its header comment is the
//! format's specification) and the lines it prints back.

use rvbpf_jit::{Image, RelocKind};
use std::collections::HashMap;

const MAGIC: &[u8; 8] = b"RVBPFNB2";
const FLAG_SANDBOXED: u32 = 1;
const FLAG_STACK_IN_SANDBOX: u32 = 2;
const NO_SECRET: u32 = u32::MAX;
const RELOC_HELPER: u32 = 1;
const RELOC_DISPATCH: u32 = 2;
/// Maps, globals, kfuncs: the harness refuses these with a clear error.
const RELOC_UNSUPPORTED: u32 = 3;

/// One image to run natively.
#[derive(Clone, Debug)]
pub struct NativeCase {
    /// Unique within a batch, no whitespace (it is a field of the output).
    pub name: String,
    pub code: Vec<u8>,
    pub entry: u32,
    /// (pool slot offset, kind, argument) as the harness encodes them.
    pub relocs: Vec<(u32, u32, u32)>,
    /// The program's memory (r1 = its address, r2 = its length).
    pub mem: Vec<u8>,
    /// What the harness prints next to the result (for reading its output
    /// by hand; the test compares results itself).
    pub expected: u64,
    /// Run inside the sandbox: memory at the VM ctx address, the VM stack
    /// region mapped, the native stack 2^36 above it (its mirror), the rest
    /// of the harness above 2^36.
    pub sandboxed: bool,
    /// Sandboxed, but with sp starting in the VM stack region itself: the
    /// frames' control data inside the sandbox (the weaker layout).
    pub stack_in_sandbox: bool,
    /// Offset in `mem` where the harness writes the real address of its
    /// `secret` variable (it reports afterwards whether the secret changed).
    pub secret_at: Option<u32>,
}

impl NativeCase {
    /// The unlinked image; the harness applies the relocations itself.
    pub fn from_image(name: String, image: &Image, mem: &[u8], expected: u64) -> NativeCase {
        assert!(
            !name.contains(char::is_whitespace),
            "case name `{name}` has whitespace"
        );
        let relocs = image
            .relocs
            .iter()
            .map(|r| {
                let (kind, arg) = match r.kind {
                    RelocKind::Helper(n) => (RELOC_HELPER, n as u32),
                    RelocKind::HelperDispatch => (RELOC_DISPATCH, 0),
                    _ => (RELOC_UNSUPPORTED, 0),
                };
                (r.offset as u32, kind, arg)
            })
            .collect();
        NativeCase {
            name,
            code: image.code.clone(),
            entry: image.entry() as u32,
            relocs,
            mem: mem.to_vec(),
            expected,
            sandboxed: false,
            stack_in_sandbox: false,
            secret_at: None,
        }
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_blob(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, u32::try_from(bytes.len()).expect("blob under 4 GiB"));
    out.extend_from_slice(bytes);
}

/// Serialises `cases` in the harness's batch format.
pub fn encode(cases: &[NativeCase]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    put_u32(&mut out, cases.len() as u32);
    for c in cases {
        put_blob(&mut out, c.name.as_bytes());
        put_blob(&mut out, &c.code);
        put_u32(&mut out, c.entry);
        put_u32(&mut out, c.relocs.len() as u32);
        for &(offset, kind, arg) in &c.relocs {
            put_u32(&mut out, offset);
            put_u32(&mut out, kind);
            put_u32(&mut out, arg);
        }
        put_blob(&mut out, &c.mem);
        out.extend_from_slice(&c.expected.to_le_bytes());
        let flags = if c.sandboxed { FLAG_SANDBOXED } else { 0 }
            | if c.stack_in_sandbox {
                FLAG_STACK_IN_SANDBOX
            } else {
                0
            };
        put_u32(&mut out, flags);
        put_u32(&mut out, c.secret_at.unwrap_or(NO_SECRET));
    }
    out
}

/// How one case ended natively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NativeOutcome {
    /// The image returned this r0.
    Returned(u64),
    /// The harness's `error` line (fault, timeout, ABI breach, ...).
    Failed(String),
}

/// The value the harness's `secret` variable holds before every case.
pub const SECRET_VALUE: u64 = 0x5ec7_e75e_c7e7_5ec7;

/// The harness's `secret NAME intact|MODIFIED` lines: whether the secret
/// survived each case that was given its address.
pub fn parse_secrets(stdout: &str) -> Result<HashMap<String, bool>, String> {
    let mut out = HashMap::new();
    for line in stdout.lines().filter(|l| l.starts_with("secret ")) {
        let intact = match line.rsplit(' ').next() {
            Some("intact") => true,
            Some("MODIFIED") => false,
            _ => return Err(format!("bad secret line `{line}`")),
        };
        let name = line.split(' ').nth(1).unwrap_or_default();
        out.insert(name.to_string(), intact);
    }
    Ok(out)
}

/// Parses the harness's stdout: one outcome per case name. Lines it does
/// not recognise are an error (the format is ours, any drift is a bug);
/// `secret` lines are [`parse_secrets`]'s.
pub fn parse_output(stdout: &str) -> Result<HashMap<String, NativeOutcome>, String> {
    let mut out = HashMap::new();
    for line in stdout.lines().filter(|l| !l.starts_with("secret ")) {
        let mut words = line.splitn(3, ' ');
        let (tag, name, rest) = (words.next(), words.next(), words.next());
        let outcome = match (tag, name, rest) {
            (Some("result"), Some(_), Some(rest)) => {
                let hex = rest.split(' ').next().unwrap_or_default();
                let value = hex
                    .strip_prefix("0x")
                    .and_then(|h| u64::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad result value in harness line `{line}`"))?;
                NativeOutcome::Returned(value)
            }
            (Some("error"), Some(_), Some(why)) => NativeOutcome::Failed(why.to_string()),
            (Some("done"), _, None) => continue,
            _ => return Err(format!("unexpected harness output line `{line}`")),
        };
        out.insert(name.unwrap_or_default().to_string(), outcome);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lines_parse() {
        let text = "result a 0x2a expected 0x2a ok\n\
                    error b signal 11 (Segmentation fault)\n\
                    result c 0xffffffffffffffff expected 0x0 MISMATCH\ndone 3\n";
        let m = parse_output(text).unwrap();
        assert_eq!(m["a"], NativeOutcome::Returned(42));
        assert_eq!(
            m["b"],
            NativeOutcome::Failed("signal 11 (Segmentation fault)".into())
        );
        assert_eq!(m["c"], NativeOutcome::Returned(u64::MAX));
        assert!(parse_output("garbage\n").is_err());
        let text = "error a signal 11 (Segmentation fault)\nsecret a intact\n\
                    result b 0x0 expected 0x0 ok\nsecret b MODIFIED\ndone 2\n";
        assert_eq!(parse_output(text).unwrap().len(), 2);
        let secrets = parse_secrets(text).unwrap();
        assert_eq!((secrets["a"], secrets["b"]), (true, false));
    }

    #[test]
    fn encoding_layout_matches_the_harness_header() {
        let case = NativeCase {
            name: "x".into(),
            code: vec![0x13, 0, 0, 0],
            entry: 0,
            relocs: vec![(8, RELOC_HELPER, 5)],
            mem: vec![0xaa],
            expected: 7,
            sandboxed: true,
            stack_in_sandbox: false,
            secret_at: None,
        };
        let b = encode(&[case]);
        // magic, count=1, name (4+1), code (4+4), entry, nrelocs=1, reloc
        // (12), mem (4+1), expected (8), flags (4), secret offset (4).
        assert_eq!(b.len(), 8 + 4 + 5 + 8 + 4 + 4 + 12 + 5 + 8 + 4 + 4);
        assert_eq!(&b[..8], b"RVBPFNB2");
        assert_eq!(&b[12..17], &[1, 0, 0, 0, b'x']);
        let tail = b.len() - 16;
        assert_eq!(&b[tail..tail + 8], &7u64.to_le_bytes());
        assert_eq!(&b[tail + 8..], &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    }
}
