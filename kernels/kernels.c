// Code-quality kernels: each kernel is written once here and compiled twice
// by build.sh, with the same clang and -O2:
//
//   * for BPF (-target bpf -mcpu=v3): every kernel becomes a program in a
//     section "raw/<name>" (ProgKind::Other: the ctx is raw bytes) whose
//     entry receives r1 = buffer address, r2 = buffer length;
//   * natively for riscv64 (rv64gc, and rv64gc_zba_zbb): every kernel is a
//     plain C function, a0 = buffer address, a1 = buffer length.
//
// The measurement (crates/jit/examples/measure_kernels.rs) runs both in the
// rv64 emulator and compares retired instructions: native clang code versus
// the rvbpf JIT's translation of clang's BPF code.
//
// Rules that keep both builds self-contained:
//   * no globals, no tables, no libc: the native objects must have no
//     relocations other than intra-object calls, and the BPF objects no maps;
//   * the buffer is 8-byte aligned (the harness guarantees it), so word
//     loads through casted pointers are aligned on both sides;
//   * every kernel returns a u64 that the tests compare with a Rust
//     reference implementation (crates/jit/tests/kernels.rs).

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#ifdef __bpf__
// A BPF program: a global function in its own section.
#define KERNEL(name) __attribute__((section("raw/" #name), used)) u64 name
#else
#define KERNEL(name) u64 name
#endif

// RFC 1071 Internet checksum: ones'-complement sum of the buffer as
// little-endian 16-bit words (an odd trailing byte is the low byte of a
// final word), folded to 16 bits and complemented.
KERNEL(checksum)(const u8 *buf, u64 len)
{
	const u16 *words = (const u16 *)buf;
	u64 sum = 0;
	u64 n = len / 2;
	for (u64 i = 0; i < n; i++)
		sum += words[i];
	if (len & 1)
		sum += buf[len - 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

// 64-bit FNV-1a over the bytes of the buffer.
KERNEL(fnv1a)(const u8 *buf, u64 len)
{
	u64 h = 0xcbf29ce484222325ULL;
	for (u64 i = 0; i < len; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

// MurmurHash3 x86_32 (seed 0) over the buffer's whole 32-bit words
// (len / 4 of them; trailing bytes are ignored), with its final mix.
// All arithmetic is 32-bit: this is the kernel that shows alu32 costs.
KERNEL(murmur3)(const u8 *buf, u64 len)
{
	const u32 *words = (const u32 *)buf;
	u64 n = len / 4;
	u32 h = 0;
	for (u64 i = 0; i < n; i++) {
		u32 k = words[i];
		k *= 0xcc9e2d51u;
		k = (k << 15) | (k >> 17);
		k *= 0x1b873593u;
		h ^= k;
		h = (h << 13) | (h >> 19);
		h = h * 5 + 0xe6546b64u;
	}
	h ^= (u32)(n * 4);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit: no
// table, so no global data.
KERNEL(crc32)(const u8 *buf, u64 len)
{
	u32 crc = 0xffffffffu;
	for (u64 i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

// The buffer is a sorted array of n = len / 4 u32s. For every i, look up
// key = a[i] + (i & 1) with a lower-bound binary search (so about half the
// keys are present). Returns sum(position) + 2^32 * (number of hits).
KERNEL(binsearch)(const u8 *buf, u64 len)
{
	const u32 *a = (const u32 *)buf;
	u64 n = len / 4;
	u64 acc = 0;
	for (u64 i = 0; i < n; i++) {
		u32 key = a[i] + (u32)(i & 1);
		u64 lo = 0, hi = n;
		while (lo < hi) {
			u64 mid = lo + (hi - lo) / 2;
			if (a[mid] < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		acc += lo;
		if (lo < n && a[lo] == key)
			acc += 1ULL << 32;
	}
	return acc;
}

// A small function the optimiser must not inline: one step of a
// multiplicative mix. In BPF it is a bpf2bpf call (a subprogram in .text),
// natively a plain call.
static __attribute__((noinline)) u64 mix_step(u64 acc, u64 x)
{
	acc ^= x + (acc >> 7);
	return acc * 0x9e3779b97f4a7c15ULL;
}

// Calls mix_step once per 64-bit word of the buffer (len / 8 words).
KERNEL(call_loop)(const u8 *buf, u64 len)
{
	const u64 *words = (const u64 *)buf;
	u64 n = len / 8;
	u64 acc = len;
	for (u64 i = 0; i < n; i++)
		acc = mix_step(acc, words[i]);
	return acc;
}
