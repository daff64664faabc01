//! Shared test helpers: BPF text → verified program → Image.
#![allow(dead_code)]

use rvbpf_ebpf::asm::assemble_object;
use rvbpf_ebpf::object::{KfuncProto, MapDef, MapKind, Object};
use rvbpf_ebpf::verifier::{verify, VerifiedProgram, VerifyEnv};
use rvbpf_jit::{compile, Image, JitOptions, TccScheme};
use rvbpf_rv64::Target;

pub fn map(kind: MapKind) -> MapDef {
    MapDef {
        name: format!("{kind:?}"),
        kind,
        key_size: 4,
        value_size: if kind == MapKind::ProgArray { 4 } else { 64 },
        max_entries: 4,
        global: None,
        prog_init: vec![],
    }
}

/// Assembles `src` with the given maps and kfunc names and verifies it.
pub fn verified(src: &str, maps: &[MapKind], kfuncs: &[&str]) -> VerifiedProgram {
    verified_with_protos(src, maps, kfuncs, vec![])
}

/// [`verified`], with BTF-like prototypes for the first kfuncs.
pub fn verified_with_protos(
    src: &str,
    maps: &[MapKind],
    kfuncs: &[&str],
    kfunc_protos: Vec<Option<KfuncProto>>,
) -> VerifiedProgram {
    let mut obj: Object = assemble_object("test", src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    obj.maps = maps.iter().map(|&k| map(k)).collect();
    obj.kfuncs = kfuncs.iter().map(|s| s.to_string()).collect();
    obj.kfunc_protos = kfunc_protos;
    let env = VerifyEnv {
        helper_known: &|_| true,
        kfunc_known: &|_| true,
        entry_args: 1,
    };
    verify(&obj, 0, &env).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

pub fn opts(target: &str, tcc: TccScheme) -> JitOptions {
    JitOptions {
        target: target.parse::<Target>().unwrap(),
        tcc,
        ..JitOptions::default()
    }
}

pub fn compile_text(src: &str, maps: &[MapKind], o: &JitOptions) -> Image {
    compile(&verified(src, maps, &[]), o).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

pub const TARGETS: [&str; 4] = ["rv64g", "rv64gc", "rv64g_zba_zbb", "rv64gc_zba_zbb"];
pub const SCHEMES: [TccScheme; 3] = [TccScheme::Reg, TccScheme::Stack, TccScheme::Ptr];
pub mod emu;
pub mod scenario;
