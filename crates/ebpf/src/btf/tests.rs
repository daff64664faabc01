//! Unit tests over hand-built BTF blobs (encoded from the kernel's btf.h layout).

use super::*;

/// Builds a BTF blob: strings are appended on demand, types are raw u32 words.
struct Builder {
    strings: Vec<u8>,
    types: Vec<u32>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            strings: vec![0],
            types: Vec::new(),
        }
    }
    fn s(&mut self, name: &str) -> u32 {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }
    fn ty(&mut self, name: &str, kind: u32, vlen: u32, size_or_type: u32, extra: &[u32]) {
        let n = if name.is_empty() { 0 } else { self.s(name) };
        self.types
            .extend_from_slice(&[n, (kind << 24) | vlen, size_or_type]);
        self.types.extend_from_slice(extra);
    }
    fn build(&self) -> Vec<u8> {
        let type_bytes: Vec<u8> = self.types.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut out = Vec::new();
        out.extend_from_slice(&0xeb9fu16.to_le_bytes());
        out.push(1);
        out.push(0);
        for w in [
            24u32,
            0,
            type_bytes.len() as u32,
            type_bytes.len() as u32,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&type_bytes);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// id 1: int (4 bytes), 2: const int, 3: typedef u32 = const int,
/// 4: int[5], 5: struct s { u32 a; int b[5]; } (size 24), 6: ptr -> 5,
/// 7: func_proto int(int x, struct s *p), 8: func "f" static -> 7,
/// 9: var "v" -> 5, 10: datasec ".data" { 9 @ 0, size 24 }.
fn sample() -> Builder {
    let mut b = Builder::new();
    b.ty("int", 1, 0, 4, &[(1 << 24) | 32]);
    b.ty("", 10, 0, 1, &[]);
    b.ty("u32", 8, 0, 2, &[]);
    b.ty("", 3, 0, 0, &[1, 1, 5]);
    let (a, bb) = (b.s("a"), b.s("b"));
    b.ty("s", 4, 2, 24, &[a, 3, 0, bb, 4, 32]);
    b.ty("", 2, 0, 5, &[]);
    let (x, p) = (b.s("x"), b.s("p"));
    b.ty("", 13, 2, 1, &[x, 1, p, 6]);
    b.ty("f", 12, 0, 7, &[]);
    b.ty("v", 14, 0, 5, &[1]);
    b.ty(".data", 15, 1, 24, &[9, 0, 24]);
    b
}

#[test]
fn parses_every_sample_kind_and_resolves_sizes() {
    let btf = Btf::parse(&sample().build()).unwrap();
    assert_eq!(btf.len(), 10);
    assert_eq!(
        btf.get(1).unwrap().kind,
        BtfKind::Int {
            size: 4,
            encoding: 1,
            offset: 0,
            bits: 32
        }
    );
    // typedef -> const -> int: 4 bytes.
    assert_eq!(btf.resolve_size(3).unwrap(), 4);
    assert_eq!(btf.skip_modifiers(3).unwrap(), 1);
    // int[5] = 20 bytes, struct = its declared 24, pointer = 8, var -> struct.
    assert_eq!(btf.resolve_size(4).unwrap(), 20);
    assert_eq!(btf.resolve_size(5).unwrap(), 24);
    assert_eq!(btf.resolve_size(6).unwrap(), 8);
    assert_eq!(btf.resolve_size(9).unwrap(), 24);
    match &btf.get(5).unwrap().kind {
        BtfKind::Struct { members, .. } => {
            assert_eq!(members[1].name, "b");
            assert_eq!(members[1].bit_offset, 32);
        }
        k => panic!("expected struct, got {k:?}"),
    }
    assert_eq!(btf.func_arg_count("f"), Some(2));
    assert_eq!(btf.func_arg_count("nope"), None);
    let (_, vars) = btf.datasec(".data").unwrap();
    assert_eq!(
        vars,
        &[VarSecInfo {
            ty: 9,
            offset: 0,
            size: 24
        }]
    );
    // Functions and void have no size.
    assert!(matches!(
        btf.resolve_size(8),
        Err(BtfError::NoSize { id: 8, .. })
    ));
    assert!(matches!(
        btf.resolve_size(0),
        Err(BtfError::NoSize { id: 0, .. })
    ));
}

#[test]
fn decodes_remaining_kinds() {
    let mut b = Builder::new();
    let (e1, e2) = (b.s("A"), b.s("B"));
    b.ty("e", 6, 2, 4, &[e1, 0, e2, 7]); // 1 enum
    b.ty("fw", 7, 0, 0, &[]); // 2 fwd
    b.ty("", 9, 0, 1, &[]); // 3 volatile
    b.ty("", 11, 0, 3, &[]); // 4 restrict
    b.ty("double", 16, 0, 8, &[]); // 5 float
    b.ty("tag", 17, 0, 1, &[u32::MAX]); // 6 decl_tag on the type itself
    b.ty("user", 18, 0, 5, &[]); // 7 type_tag
    let c = b.s("C");
    b.ty("e64", 19, 1, 8, &[c, 1, 2]); // 8 enum64 = 0x2_0000_0001
    let btf = Btf::parse(&b.build()).unwrap();
    assert_eq!(
        btf.resolve_size(4).unwrap(),
        4,
        "restrict -> volatile -> enum"
    );
    assert_eq!(btf.resolve_size(7).unwrap(), 8, "type_tag -> float");
    assert_eq!(
        btf.get(6).unwrap().kind,
        BtfKind::DeclTag {
            target: 1,
            component_idx: -1
        }
    );
    match &btf.get(8).unwrap().kind {
        BtfKind::Enum64 { values, .. } => assert_eq!(values[0].value, 0x2_0000_0001),
        k => panic!("expected enum64, got {k:?}"),
    }
    match &btf.get(1).unwrap().kind {
        BtfKind::Enum { values, .. } => assert_eq!(values[1].value, 7),
        k => panic!("expected enum, got {k:?}"),
    }
}

#[test]
fn rejects_malformed_blobs_with_typed_errors() {
    let good = sample().build();
    assert!(matches!(
        Btf::parse(&good[..10]),
        Err(BtfError::Truncated { .. })
    ));
    let mut bad_magic = good.clone();
    bad_magic[0] = 0;
    assert!(matches!(Btf::parse(&bad_magic), Err(BtfError::BadMagic(_))));
    // Type section claims more bytes than exist.
    let mut long = good.clone();
    long[12..16].copy_from_slice(&0xffffu32.to_le_bytes());
    assert!(matches!(
        Btf::parse(&long),
        Err(BtfError::SectionOutOfBounds { .. })
    ));
    // A pointer to type 99 (only 10 exist).
    let mut b = sample();
    b.ty("", 2, 0, 99, &[]);
    assert_eq!(
        Btf::parse(&b.build()),
        Err(BtfError::InType {
            id: 11,
            source: Box::new(BtfError::BadTypeId(99))
        })
    );
    // Unknown kind 31.
    let mut b = sample();
    b.ty("", 31, 0, 0, &[]);
    assert!(matches!(
        Btf::parse(&b.build()),
        Err(BtfError::InType { id: 11, .. })
    ));
    // A name offset past the string section.
    let mut b = sample();
    b.types.extend_from_slice(&[9999, 2 << 24, 1]);
    assert_eq!(
        Btf::parse(&b.build()),
        Err(BtfError::InType {
            id: 11,
            source: Box::new(BtfError::BadStringOffset(9999))
        })
    );
}

#[test]
fn cyclic_typedefs_are_reported_not_looped() {
    let mut b = Builder::new();
    b.ty("a", 8, 0, 2, &[]);
    b.ty("b", 8, 0, 1, &[]);
    let btf = Btf::parse(&b.build()).unwrap();
    assert!(matches!(btf.resolve_size(1), Err(BtfError::TooDeep(_))));
    assert!(matches!(btf.skip_modifiers(1), Err(BtfError::TooDeep(_))));
}
