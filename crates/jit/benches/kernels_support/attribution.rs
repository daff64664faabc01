//! Where the JIT's extra instructions go: every instruction the JIT image
//! retired in a traced run is attributed to the BPF instruction (or
//! header / prologue / epilogue) it was emitted for and classified by what
//! it does, using the image's annotated listing (`Image::listing()`).
//!
//! Classification is by instruction shape, per BPF instruction's sequence:
//! * `zext`: `slli x, y, 32` + `srli x, x, 32`, or `zext.w` (alu32 results,
//!   jmp32 operands);
//! * `sext`: `sext.w` (jmp32 operands);
//! * `const`: building an immediate in a JIT temporary (`t0`..`t3`) with
//!   `li`/`lui`/`addi(w)`/`slli`, and every instruction of a `lddw`;
//! * `copy`: the `mv` of a BPF 64-bit register `mov` (BPF is two-address,
//!   so clang emits `mov rd, rs; op rd, x` where RISC-V needs one `op`);
//! * `frame`: function header (patch nops, tail-call count), prologue,
//!   epilogue;
//! * `work`: everything else.

use std::collections::BTreeMap;

/// Instruction classes, in display order.
pub const CLASSES: [&str; 6] = ["work", "zext", "sext", "const", "copy", "frame"];

/// Static facts about one emitted instruction.
#[derive(Clone, Debug)]
struct Site {
    class: &'static str,
    /// Index into `Attribution::owners`.
    owner: usize,
    /// First instruction emitted for a BPF instruction: retiring it means
    /// one execution of that BPF instruction.
    starts_bpf_insn: bool,
}

/// The listing of an image, parsed into per-offset classes and owners.
#[derive(Clone, Debug, Default)]
pub struct Attribution {
    sites: BTreeMap<u64, Site>,
    /// "func: header", "func: 12: add32 %r3, %r1", ...
    owners: Vec<String>,
}

/// One instruction line of a listing section.
struct Line {
    offset: u64,
    text: String,
}

impl Attribution {
    /// Parses `listing` (the format of `rvbpf_jit::Image::listing`). Lines it
    /// does not understand are skipped; instructions they describe then
    /// count as unattributed.
    pub fn from_listing(listing: &str) -> Attribution {
        let mut out = Attribution::default();
        let mut function = String::new();
        let mut owner: Option<String> = None;
        let mut lines: Vec<Line> = Vec::new();
        for raw in listing.lines() {
            let indent = raw.len() - raw.trim_start().len();
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('<') {
                out.flush(owner.take(), &mut lines);
                function = rest.split('>').next().unwrap_or("?").to_string();
            } else if indent >= 8 {
                // "   1a: 2a 87        mv a4, a0": offset, bytes, text.
                let Some((offset, rest)) = line.split_once(':') else {
                    continue;
                };
                let Ok(offset) = u64::from_str_radix(offset.trim(), 16) else {
                    continue;
                };
                let text = rest
                    .split_whitespace()
                    .skip_while(|w| w.len() == 2 && w.chars().all(|c| c.is_ascii_hexdigit()))
                    .collect::<Vec<_>>()
                    .join(" ");
                lines.push(Line { offset, text });
            } else if let Some(section) = line.strip_prefix("; ") {
                out.flush(owner.take(), &mut lines);
                owner = Some(format!("{function}: {section}"));
            } else if line
                .split_once(':')
                .is_some_and(|(pc, _)| pc.trim().parse::<usize>().is_ok())
            {
                out.flush(owner.take(), &mut lines);
                owner = Some(format!("{function}: {line}"));
            }
        }
        out.flush(owner, &mut lines);
        out
    }

    /// Classifies the instructions collected for `owner`.
    fn flush(&mut self, owner: Option<String>, lines: &mut Vec<Line>) {
        let Some(owner) = owner else {
            lines.clear();
            return;
        };
        let bpf = owner.split_once(": ").map_or("", |(_, b)| b);
        let bpf_text = bpf.split_once(": ").map_or("", |(_, t)| t);
        let is_frame = matches!(bpf, "header" | "prologue" | "epilogue");
        let is_lddw = bpf_text.starts_with("lddw");
        let is_mov64 = bpf_text.starts_with("mov ") && bpf_text.matches("%r").count() == 2;
        self.owners.push(owner);
        let index = self.owners.len() - 1;
        let mut i = 0;
        while i < lines.len() {
            let words: Vec<&str> = lines[i]
                .text
                .split([' ', ','])
                .filter(|w| !w.is_empty())
                .collect();
            let zext_pair = words.first() == Some(&"slli")
                && words.get(3) == Some(&"32")
                && lines.get(i + 1).is_some_and(|next| {
                    next.text == format!("srli {}, {}, 32", words[1], words[1])
                });
            let mut put = |at: usize, class| {
                self.sites.insert(
                    lines[at].offset,
                    Site {
                        class,
                        owner: index,
                        starts_bpf_insn: at == 0 && !is_frame,
                    },
                );
            };
            if zext_pair {
                put(i, "zext");
                put(i + 1, "zext");
                i += 2;
                continue;
            }
            let mnemonic = words.first().copied().unwrap_or("");
            let writes_temp = words
                .get(1)
                .is_some_and(|r| matches!(*r, "t0" | "t1" | "t2" | "t3"));
            let class = if is_frame {
                "frame"
            } else if mnemonic == "zext.w" {
                "zext"
            } else if mnemonic == "sext.w" {
                "sext"
            } else if is_lddw
                || (writes_temp && matches!(mnemonic, "li" | "lui" | "addi" | "addiw" | "slli"))
            {
                "const"
            } else if is_mov64 && mnemonic == "mv" {
                "copy"
            } else {
                "work"
            };
            put(i, class);
            i += 1;
        }
        lines.clear();
    }

    /// Per-class totals and per-owner totals of the retired instructions at
    /// `offsets` (image-relative code offsets, one per retired instruction).
    pub fn count(&self, offsets: impl IntoIterator<Item = u64>) -> Breakdown {
        let mut b = Breakdown::default();
        for offset in offsets {
            match self.sites.get(&offset) {
                Some(site) => {
                    b.bpf_executed += u64::from(site.starts_bpf_insn);
                    *b.by_class.entry(site.class).or_default() += 1;
                    *b.by_owner
                        .entry(self.owners[site.owner].clone())
                        .or_default()
                        .entry(site.class)
                        .or_default() += 1;
                }
                None => b.unattributed += 1,
            }
        }
        b
    }
}

/// Retired JIT instructions by class and by owner.
#[derive(Clone, Debug, Default)]
pub struct Breakdown {
    pub by_class: BTreeMap<&'static str, u64>,
    /// owner → class → count.
    pub by_owner: BTreeMap<String, BTreeMap<&'static str, u64>>,
    pub unattributed: u64,
    /// BPF instructions executed (those the JIT emitted code for): what a
    /// one-to-one translation would retire.
    pub bpf_executed: u64,
}

impl Breakdown {
    pub fn class(&self, class: &str) -> u64 {
        self.by_class.get(class).copied().unwrap_or(0)
    }

    /// Owners sorted by retired instructions, most first.
    pub fn hottest(&self, n: usize) -> Vec<(&str, u64, &BTreeMap<&'static str, u64>)> {
        let mut v: Vec<_> = self
            .by_owner
            .iter()
            .map(|(o, c)| (o.as_str(), c.values().sum::<u64>(), c))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }
}
