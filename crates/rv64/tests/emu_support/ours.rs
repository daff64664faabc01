//! Loads an [`Image`] into our emulator with the same layout ckb-vm gets.

#![allow(dead_code)]

use super::ckb::Image;
use rvbpf_rv64::emu::{Hart, Memory, Perms};
use rvbpf_rv64::Reg;

/// Memory with the image's code (RX) and data blocks (RW, named `data0`,
/// `data1` ...), and a hart with its registers and pc.
pub fn load(image: &Image) -> (Hart, Memory) {
    let mut mem = Memory::new();
    mem.add_region("code", image.code_base, Perms::RX, image.code.clone())
        .expect("code region");
    for (i, (base, bytes)) in image.data.iter().enumerate() {
        mem.add_region(format!("data{i}"), *base, Perms::RW, bytes.clone())
            .expect("data region");
    }
    let mut hart = Hart::new();
    for (i, &v) in image.regs.iter().enumerate() {
        hart.set_reg(Reg::new(i as u8).expect("< 32"), v);
    }
    hart.set_pc(image.entry);
    (hart, mem)
}

/// Final contents of the image's data blocks.
pub fn data(mem: &Memory, image: &Image) -> Vec<Vec<u8>> {
    (0..image.data.len())
        .map(|i| {
            let id = mem.region_id(&format!("data{i}")).expect("data region");
            mem.region(id).data().to_vec()
        })
        .collect()
}
