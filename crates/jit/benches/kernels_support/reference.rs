//! Plain Rust reference implementations of the C kernels in
//! `kernels/kernels.c`, written from the algorithms' definitions (not
//! transliterated from the C loops), so the tests have an independent oracle.

/// RFC 1071 Internet checksum over little-endian 16-bit words; an odd
/// trailing byte is padded with a zero high byte.
pub fn checksum(buf: &[u8]) -> u64 {
    let mut sum: u64 = buf
        .chunks(2)
        .map(|c| u64::from(c[0]) | u64::from(*c.get(1).unwrap_or(&0)) << 8)
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    u64::from(!(sum as u16))
}

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 2^40 + 0x1b3).
pub fn fnv1a(buf: &[u8]) -> u64 {
    buf.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// MurmurHash3 x86_32 with seed 0 over the whole 32-bit little-endian words
/// of `buf` (a tail shorter than 4 bytes is ignored, as in the C kernel).
pub fn murmur3(buf: &[u8]) -> u64 {
    let words = buf.chunks_exact(4);
    let n = words.len();
    let mut h: u32 = 0;
    for w in words {
        let k = u32::from_le_bytes(w.try_into().expect("chunk of 4"))
            .wrapping_mul(0xcc9e_2d51)
            .rotate_left(15)
            .wrapping_mul(0x1b87_3593);
        h = (h ^ k)
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    h ^= (n * 4) as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    u64::from(h)
}

/// CRC-32/ISO-HDLC (the zlib/Ethernet CRC): reflected polynomial
/// 0xEDB88320, initial value and final xor 0xFFFFFFFF.
pub fn crc32(buf: &[u8]) -> u64 {
    let mut crc = u32::MAX;
    for &b in buf {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    u64::from(!crc)
}

/// For a sorted array of `len / 4` little-endian u32s, looks up
/// `a[i] + (i & 1)` for every `i`: the sum of the lower-bound positions plus
/// 2^32 times the number of keys found.
pub fn binsearch(buf: &[u8]) -> u64 {
    let a: Vec<u32> = buf
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes(w.try_into().expect("chunk of 4")))
        .collect();
    let mut acc = 0u64;
    for (i, &x) in a.iter().enumerate() {
        let key = x.wrapping_add((i & 1) as u32);
        let pos = a.partition_point(|&v| v < key);
        acc = acc.wrapping_add(pos as u64);
        if a.get(pos) == Some(&key) {
            acc = acc.wrapping_add(1 << 32);
        }
    }
    acc
}

/// Folds every whole little-endian u64 word `x` of `buf` into an
/// accumulator that starts at `len`: `acc = (acc ^ (x + (acc >> 7))) *
/// 0x9e3779b97f4a7c15` (wrapping).
pub fn call_loop(buf: &[u8]) -> u64 {
    buf.chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("chunk of 8")))
        .fold(buf.len() as u64, |acc, x| {
            (acc ^ x.wrapping_add(acc >> 7)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        })
}
