//! Which part of the generated code each byte belongs to, read from the
//! image's annotated listing (the JIT's only public record of where
//! headers, prologues and epilogues are): per function, the header,
//! prologue, epilogue, and the lowering of each BPF pc.

use rvbpf_jit::Image;

/// A part of a function's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Patch site + tcc init (the first 12 bytes).
    Header = 0,
    Prologue = 1,
    /// The lowering of a BPF instruction that is not a marked site.
    Body = 2,
    /// The lowering of a BPF instruction marked as the measured call site.
    Site = 3,
    Epilogue = 4,
    /// Not code of a mapped image (cannot happen for a retired instruction
    /// of JIT code).
    Outside = 5,
}

impl Section {
    pub const COUNT: usize = 6;
    pub const ALL: [Section; Section::COUNT] = [
        Section::Header,
        Section::Prologue,
        Section::Body,
        Section::Site,
        Section::Epilogue,
        Section::Outside,
    ];
}

/// Who owns a code byte range, as the listing says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Header,
    Prologue,
    Insn(usize),
    Epilogue,
}

/// One listed instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Index into `Image::functions`.
    pub function: usize,
    pub owner: Owner,
    pub offset: usize,
    pub len: usize,
}

/// Every instruction of an image's text with its owner, in address order.
pub fn pieces(image: &Image) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut function = None::<usize>;
    let mut owner = Owner::Header;
    for line in image.listing().lines() {
        let indent = line.len() - line.trim_start().len();
        let rest = line.trim_start();
        if rest.starts_with("<pool>") {
            break;
        }
        if let Some(name) = rest.strip_prefix('<') {
            let name = name.split('>').next().unwrap_or_default();
            function = image.functions.iter().position(|f| f.name == name);
            continue;
        }
        if rest.is_empty() {
            continue;
        }
        if indent < 8 {
            // A heading: "; header", "; prologue", "; epilogue" or "pc: insn".
            owner = match rest {
                "; header" => Owner::Header,
                "; prologue" => Owner::Prologue,
                "; epilogue" => Owner::Epilogue,
                _ => match rest.split(':').next().map(str::parse::<usize>) {
                    Some(Ok(pc)) => Owner::Insn(pc),
                    _ => continue,
                },
            };
            continue;
        }
        // "offset: hex bytes padded to 12  text"
        let Some((offset, tail)) = rest.split_once(": ") else {
            continue;
        };
        let Ok(offset) = usize::from_str_radix(offset, 16) else {
            continue;
        };
        let hex = tail.get(..12).unwrap_or(tail);
        let len = hex.split_whitespace().count();
        if let Some(function) = function {
            out.push(Piece {
                function,
                owner,
                offset,
                len,
            });
        }
    }
    out
}

/// Static code bytes of one function, by part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FunctionBytes {
    pub header: usize,
    pub prologue: usize,
    pub body: usize,
    pub epilogue: usize,
}

/// Bytes per part of function `function` of `image`.
pub fn function_bytes(image: &Image, function: usize) -> FunctionBytes {
    let mut b = FunctionBytes::default();
    for p in pieces(image).iter().filter(|p| p.function == function) {
        match p.owner {
            Owner::Header => b.header += p.len,
            Owner::Prologue => b.prologue += p.len,
            Owner::Insn(_) => b.body += p.len,
            Owner::Epilogue => b.epilogue += p.len,
        }
    }
    b
}

/// Bytes of the lowering of BPF pc `pc`.
pub fn insn_bytes(image: &Image, pc: usize) -> usize {
    pieces(image)
        .iter()
        .filter(|p| p.owner == Owner::Insn(pc))
        .map(|p| p.len)
        .sum()
}

/// Code address → section, for images mapped at known bases.
#[derive(Clone, Debug, Default)]
pub struct SectionMap {
    /// (start address, end address, section), sorted by start.
    ranges: Vec<(u64, u64, Section)>,
}

impl SectionMap {
    /// `images[k]` mapped at `bases[k]`; `sites` are (image, BPF pc) pairs
    /// whose lowering counts as [`Section::Site`].
    pub fn new(images: &[&Image], bases: &[u64], sites: &[(usize, usize)]) -> SectionMap {
        let mut ranges = Vec::new();
        for (k, (image, &base)) in images.iter().zip(bases).enumerate() {
            for p in pieces(image) {
                let section = match p.owner {
                    Owner::Header => Section::Header,
                    Owner::Prologue => Section::Prologue,
                    Owner::Epilogue => Section::Epilogue,
                    Owner::Insn(pc) if sites.contains(&(k, pc)) => Section::Site,
                    Owner::Insn(_) => Section::Body,
                };
                let start = base + p.offset as u64;
                ranges.push((start, start + p.len as u64, section));
            }
        }
        ranges.sort_by_key(|r| r.0);
        SectionMap { ranges }
    }

    /// The section of the instruction at `addr`.
    pub fn section_at(&self, addr: u64) -> Section {
        let i = self.ranges.partition_point(|r| r.1 <= addr);
        match self.ranges.get(i) {
            Some(&(start, _, section)) if start <= addr => section,
            _ => Section::Outside,
        }
    }
}
