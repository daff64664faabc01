//! Properties of the emitted code on every target and tcc scheme, over a
//! program using every BPF instruction kind plus all golden-file sources:
//! - every instruction is legal for the target (no RVC without C, no
//!   Zba/Zbb without them) and decodes;
//! - rv64's printer and `llvm-objdump` (when installed) agree on the text;
//! - compilation is deterministic.

mod common;

use common::{opts, verified, SCHEMES, TARGETS};
use rvbpf_ebpf::object::MapKind;
use rvbpf_jit::{compile, Image};
use rvbpf_rv64::llvm_oracle::{available as tool_available, llvm_objdump};
use rvbpf_rv64::{decode, disassemble, Target};

/// Every BPF instruction kind at least once (maps: 0 prog array, 1 array).
pub const KITCHEN_SINK: &str = "
    mov %r6, %r1
    mov %r7, 7
    mov32 %r8, -3
    mov %r9, 100000
    add %r7, %r8
    add %r7, 5
    add %r7, 100000
    add32 %r7, %r8
    add32 %r7, -5
    sub %r7, %r8
    sub %r7, 5
    sub32 %r7, %r9
    sub32 %r7, 0x7fffffff
    mul %r7, %r8
    mul %r7, 9
    mul32 %r7, %r8
    mul32 %r7, 100000
    div %r7, %r8
    div %r7, 3
    div %r7, 0
    div32 %r7, %r8
    div32 %r7, 3
    sdiv %r7, %r8
    sdiv32 %r7, -3
    mod %r7, %r8
    mod %r7, 3
    mod32 %r7, %r8
    mod32 %r7, 0
    smod %r7, %r8
    smod32 %r7, -7
    div %r7, %r7
    or %r7, %r8
    or %r7, 0x10
    or32 %r7, 0x12345
    and %r7, %r8
    and %r7, 0xff
    and %r7, -4097
    and32 %r7, 0x7ff
    and32 %r7, %r9
    xor %r7, %r8
    xor %r7, -1
    xor32 %r7, 3
    lsh %r7, %r8
    lsh %r7, 3
    lsh32 %r7, %r8
    lsh32 %r7, 31
    rsh %r7, %r8
    rsh %r7, 0
    rsh32 %r7, %r8
    rsh32 %r7, 1
    arsh %r7, %r8
    arsh %r7, 63
    arsh32 %r7, %r8
    arsh32 %r7, 5
    neg %r7
    neg32 %r7
    mov %r2, %r7
    mov32 %r2, %r7
    mov %r2, 0x7fffffff
    movsx864 %r2, %r7
    movsx1664 %r2, %r7
    movsx3264 %r2, %r7
    movsx832 %r2, %r7
    movsx1632 %r2, %r7
    le16 %r7
    le32 %r7
    le64 %r7
    be16 %r7
    be32 %r7
    be64 %r7
    bswap16 %r7
    bswap32 %r7
    bswap64 %r7
    lddw %r2, 0x123456789abcdef0
    lddw %r3, map:1
    lddw %r4, map_value:1+8
    lddw %r5, func:sub
    ldxb %r2, [%r6+0]
    ldxh %r2, [%r6+2]
    ldxw %r2, [%r6+4]
    ldxdw %r2, [%r6+3000]
    ldxsb %r2, [%r6+1]
    ldxsh %r2, [%r6+10]
    ldxsw %r2, [%r6+8]
    stb [%r10-1], 1
    sth [%r10-4], -1
    stw [%r10-8], 0x12345
    stdw [%r10-16], 0
    stxb [%r10-17], %r7
    stxh [%r10-20], %r7
    stxw [%r10-24], %r7
    stxdw [%r10-32], %r7
    stxdw [%r6+4000], %r7
    lock add [%r10-32], %r7
    lock or32 [%r10-24], %r7
    lock and [%r10-32], %r7
    lock xor32 [%r10-24], %r7
    lock fetch add [%r10-32], %r7
    lock fetch or32 [%r10-24], %r7
    lock fetch and [%r10-32], %r7
    lock fetch xor [%r10-32], %r7
    lock xchg [%r10-32], %r7
    lock xchg32 [%r10-24], %r7
    mov %r0, 1
    lock cmpxchg [%r10-32], %r7
    lock cmpxchg32 [%r10-24], %r7
    lock add [%r6+3000], %r7
    jeq %r7, %r8, +0
    jeq %r7, 5, +0
    jne %r7, 0, +0
    jgt %r7, %r8, +0
    jge %r7, 5, +0
    jlt %r7, %r8, +0
    jle %r7, -1, +0
    jsgt %r7, %r8, +0
    jsge %r7, 5, +0
    jslt %r7, %r8, +0
    jsle %r7, -5, +0
    jset %r7, %r8, +0
    jset %r7, 0x100, +0
    jeq32 %r7, %r8, +0
    jne32 %r7, 5, +0
    jgt32 %r7, %r8, +0
    jge32 %r7, -1, +0
    jlt32 %r7, %r8, +0
    jle32 %r7, 5, +0
    jsgt32 %r7, %r8, +0
    jsge32 %r7, -1, +0
    jslt32 %r7, %r8, +0
    jsle32 %r7, 5, +0
    jset32 %r7, %r8, +0
    jset32 %r7, -1, +0
    ja +0
    gotol +0
    mov %r1, 1
    call 1
    mov %r1, 2
    call runtime 0
    mov %r1, 3
    call local sub
    mov %r1, %r6
    lddw %r2, map:0
    mov %r3, 1
    call 12
    mov %r0, 0
    exit
sub:
    mov %r0, %r1
    exit";

const MAPS: [MapKind; 2] = [MapKind::ProgArray, MapKind::Array];

/// (name, source, maps, kfuncs) of every program in the corpus.
fn corpus() -> Vec<(String, String, Vec<MapKind>, Vec<String>)> {
    let mut out = vec![(
        "kitchen-sink".to_string(),
        KITCHEN_SINK.to_string(),
        MAPS.to_vec(),
        vec!["k".to_string()],
    )];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let src = text.split("\n==== ").next().unwrap().to_string();
        let words = |key: &str| -> Vec<String> {
            src.lines()
                .filter_map(|l| l.trim().strip_prefix(key))
                .flat_map(|r| r.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .collect()
        };
        let maps = words("# maps:")
            .iter()
            .map(|w| match w.as_str() {
                "prog_array" => MapKind::ProgArray,
                "hash" => MapKind::Hash,
                _ => MapKind::Array,
            })
            .collect();
        let kfuncs = words("# kfuncs:");
        out.push((f.display().to_string(), src, maps, kfuncs));
    }
    out
}

fn images() -> Vec<(String, Image)> {
    let mut out = Vec::new();
    for (name, src, maps, kfuncs) in corpus() {
        let k: Vec<&str> = kfuncs.iter().map(String::as_str).collect();
        let prog = verified(&src, &maps, &k);
        for t in TARGETS {
            for s in SCHEMES {
                let image = compile(&prog, &opts(t, s)).unwrap_or_else(|e| panic!("{name}: {e}"));
                out.push((format!("{name} {t} {s:?}"), image));
            }
        }
    }
    out
}

#[test]
fn every_instruction_is_legal_for_its_target() {
    for (name, image) in images() {
        let target: Target = image.target;
        let text = &image.code[..image.text_len];
        let mut at = 0;
        while at < text.len() {
            let (inst, len) = decode(&text[at..])
                .unwrap_or_else(|e| panic!("{name}: undecodable at {at:#x}: {e}"));
            assert!(len == 4 || target.c, "{name}: RVC at {at:#x} on {target:?}");
            assert!(
                target.has(inst.extension()),
                "{name}: {} at {at:#x} needs {:?}",
                inst.display(at as u64),
                inst.extension()
            );
            at += len;
        }
        // Patch sites are naturally aligned words.
        for f in &image.functions {
            assert_eq!(
                f.offset % 4,
                0,
                "{name}: function {} at {:#x}",
                f.name,
                f.offset
            );
        }
        // The pool starts 8-byte aligned after the text.
        for r in &image.relocs {
            assert!(r.offset >= image.text_len && r.offset % 8 == 0, "{name}");
        }
    }
}

#[test]
fn compilation_is_deterministic() {
    let a = images();
    let b = images();
    assert_eq!(a.len(), b.len());
    for ((na, ia), (_, ib)) in a.iter().zip(&b) {
        assert_eq!(ia, ib, "{na}: two compilations differ");
    }
}

#[test]
fn rv64_printer_agrees_with_llvm_objdump() {
    if !tool_available("llvm-objdump") || !tool_available("llvm-mc") {
        eprintln!("llvm-objdump/llvm-mc not installed: skipping");
        return;
    }
    // One image per corpus program and target (schemes differ little).
    for (_, (name, image)) in images().into_iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let text = &image.code[..image.text_len];
        let ours: Vec<String> = disassemble(text, 0)
            .iter()
            .map(|l| {
                let hex: Vec<String> = l.bytes.iter().map(|b| format!("{b:02x}")).collect();
                format!("{:x}: {} | {}", l.address, hex.join(" "), l.text)
            })
            .collect();
        let llvm = llvm_objdump(text);
        assert_eq!(ours.len(), llvm.len(), "{name}: instruction counts differ");
        for (o, l) in ours.iter().zip(&llvm) {
            assert_eq!(o, l, "{name}");
        }
    }
}

#[test]
fn kitchen_sink_runs_identically_on_every_target_and_scheme() {
    // No oracle for the value here (the interpreter-based differential
    // engine comes with the runtime); what is checked is that the Zba/Zbb,
    // RVC and plain lowerings and the three tcc schemes agree, on r0 and on
    // the ctx and map memory.
    let prog = verified(KITCHEN_SINK, &MAPS, &["k"]);
    let mut seen: Option<(u64, Vec<u8>)> = None;
    for t in TARGETS {
        for s in SCHEMES {
            let image = compile(&prog, &opts(t, s)).unwrap();
            let mut w = common::emu::world(&[&image], 2, &[]);
            for i in 0..64u64 {
                w.mem
                    .write_u64(
                        common::emu::CTX_BASE + 8 * i,
                        0x0123_4567_89ab_cdef ^ (i << 29),
                    )
                    .unwrap();
            }
            let r = w
                .run(0, &mut |n, a, _| u64::from(n) * 1000 + a[0])
                .unwrap_or_else(|e| panic!("{t} {s:?}: {e}"));
            let mut mem = vec![0u8; 0x1000];
            w.mem.read(common::emu::CTX_BASE, &mut mem).unwrap();
            let mut map = vec![0u8; 64];
            w.mem.read(common::emu::map_addr(1), &mut map).unwrap();
            mem.extend(map);
            match &seen {
                None => seen = Some((r, mem)),
                Some((r0, m0)) => {
                    assert_eq!((r, &mem), (*r0, m0), "{t} {s:?} differs from rv64g Reg")
                }
            }
        }
    }
}
