//! ELF input need not be 8-byte aligned (e.g. `include_bytes!` or a slice
//! into a larger buffer): the loader must give the same object either way.

use rvbpf_ebpf::elf::load_elf;

#[test]
fn misaligned_buffers_load_like_aligned_ones() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo/demo.o");
    let bytes = std::fs::read(path).unwrap();
    let reference = load_elf("demo.o", &bytes).unwrap();
    // Shift the object by 1..7 bytes inside a larger buffer.
    for shift in 1..8 {
        let mut buf = vec![0u8; shift];
        buf.extend_from_slice(&bytes);
        let obj = load_elf("demo.o", &buf[shift..]).unwrap();
        assert_eq!(obj, reference, "shift {shift}");
    }
}
