//! Building a program's context from input bytes.
//!
//! | program kind            | ctx region (r1)              | packet region        |
//! |-------------------------|------------------------------|----------------------|
//! | tc / classifier / socket| `__sk_buff` (192 bytes)      | the input bytes      |
//! | xdp                     | `xdp_md` (24 bytes)          | the input bytes      |
//! | anything else / raw     | the input bytes (r2 = length)| empty                |
//!
//! `__sk_buff` fields filled: `len` @0 and `wire_len` @160 (input length),
//! `protocol` @16 (the Ethernet type bytes 12..14 as stored, i.e. network
//! order like Linux), `ifindex` @40 and `ingress_ifindex` @36 (1, like
//! `BPF_PROG_TEST_RUN`), `data` @76, `data_end` @80, `data_meta` @140
//! (= data). `xdp_md`: `data` @0, `data_end` @4, `data_meta` @8 (= data),
//! `ingress_ifindex` @12 (1). Everything else is zero. Both structures are
//! writable (the verifier decides which fields a program may write).

use super::RunError;
use crate::memory::{Memory, CTX_BASE, MAX_CTX_BYTES, PACKET_BASE, REGION_CTX, REGION_PACKET};
use rvbpf_ebpf::object::ProgKind;

/// Size of `struct __sk_buff`.
pub const SK_BUFF_SIZE: usize = 192;
pub const SK_BUFF_LEN: usize = 0;
pub const SK_BUFF_DATA: usize = 76;
pub const SK_BUFF_DATA_END: usize = 80;
const SK_BUFF_PROTOCOL: usize = 16;
const SK_BUFF_INGRESS_IFINDEX: usize = 36;
const SK_BUFF_IFINDEX: usize = 40;
const SK_BUFF_DATA_META: usize = 140;
const SK_BUFF_WIRE_LEN: usize = 160;
/// Size of `struct xdp_md`.
pub const XDP_MD_SIZE: usize = 24;

/// How to present the input to the program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CtxLayout {
    /// From the program kind (table in the module doc).
    #[default]
    ByKind,
    /// The input bytes are the ctx, whatever the program kind.
    Raw,
    /// Like `Raw`, but an empty input passes r1 = 0 (a NULL pointer) and
    /// r2 = 0, as the bpf_conformance / ubpf test plugins do.
    RawOrNull,
    SkBuff,
    XdpMd,
}

/// The input of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ctx {
    pub input: Vec<u8>,
    pub layout: CtxLayout,
}

impl Ctx {
    /// Input bytes presented according to the program kind.
    pub fn new(input: impl Into<Vec<u8>>) -> Ctx {
        Ctx {
            input: input.into(),
            layout: CtxLayout::ByKind,
        }
    }
    /// `n` zero bytes (e.g. the selftests' 128-byte buffer).
    pub fn zeros(n: usize) -> Ctx {
        Ctx::new(vec![0; n])
    }
    /// No input.
    pub fn empty() -> Ctx {
        Ctx::default()
    }
    /// The bytes themselves are the ctx (r1 = address, r2 = length).
    pub fn raw(input: impl Into<Vec<u8>>) -> Ctx {
        Ctx {
            input: input.into(),
            layout: CtxLayout::Raw,
        }
    }
}

fn put_u32(buf: &mut [u8], off: usize, v: u32) {
    buf[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn fill(mem: &mut Memory, region: usize, bytes: &[u8]) {
    let data = &mut mem.region_mut(region).data;
    data.clear();
    data.extend_from_slice(bytes);
}

fn fill_zeros(mem: &mut Memory, region: usize, n: usize) {
    let data = &mut mem.region_mut(region).data;
    data.clear();
    data.resize(n, 0);
}

/// Writes the ctx (and packet) regions for a run; returns r1..r5.
pub(crate) fn install(mem: &mut Memory, kind: &ProgKind, ctx: &Ctx) -> Result<[u64; 5], RunError> {
    let len = ctx.input.len();
    if len > MAX_CTX_BYTES {
        return Err(RunError::InputTooLarge {
            len,
            limit: MAX_CTX_BYTES,
        });
    }
    let layout = match ctx.layout {
        CtxLayout::ByKind => match kind {
            ProgKind::SchedCls | ProgKind::SocketFilter => CtxLayout::SkBuff,
            ProgKind::Xdp => CtxLayout::XdpMd,
            _ => CtxLayout::Raw,
        },
        l => l,
    };
    let data = PACKET_BASE as u32;
    let data_end = data + len as u32;
    match layout {
        CtxLayout::SkBuff => {
            fill(mem, REGION_PACKET, &ctx.input);
            fill_zeros(mem, REGION_CTX, SK_BUFF_SIZE);
            let skb = &mut mem.region_mut(REGION_CTX).data;
            put_u32(skb, SK_BUFF_LEN, len as u32);
            put_u32(skb, SK_BUFF_WIRE_LEN, len as u32);
            if len >= 14 {
                put_u32(
                    skb,
                    SK_BUFF_PROTOCOL,
                    u16::from_le_bytes([ctx.input[12], ctx.input[13]]) as u32,
                );
            }
            put_u32(skb, SK_BUFF_INGRESS_IFINDEX, 1);
            put_u32(skb, SK_BUFF_IFINDEX, 1);
            put_u32(skb, SK_BUFF_DATA, data);
            put_u32(skb, SK_BUFF_DATA_END, data_end);
            put_u32(skb, SK_BUFF_DATA_META, data);
            Ok([CTX_BASE, 0, 0, 0, 0])
        }
        CtxLayout::XdpMd => {
            fill(mem, REGION_PACKET, &ctx.input);
            fill_zeros(mem, REGION_CTX, XDP_MD_SIZE);
            let md = &mut mem.region_mut(REGION_CTX).data;
            put_u32(md, 0, data);
            put_u32(md, 4, data_end);
            put_u32(md, 8, data);
            put_u32(md, 12, 1);
            Ok([CTX_BASE, 0, 0, 0, 0])
        }
        CtxLayout::RawOrNull if len == 0 => {
            fill(mem, REGION_PACKET, &[]);
            fill(mem, REGION_CTX, &[]);
            Ok([0; 5])
        }
        CtxLayout::Raw | CtxLayout::RawOrNull | CtxLayout::ByKind => {
            fill(mem, REGION_PACKET, &[]);
            fill(mem, REGION_CTX, &ctx.input);
            Ok([CTX_BASE, len as u64, 0, 0, 0])
        }
    }
}
