//! Robustness properties over arbitrary input:
//! - random bytes as code with random registers never panic: every run ends
//!   in `Ok(stop)` or a typed error within the budget;
//! - the fast path (whole straight-line chains charged at once) and step
//!   mode (one instruction at a time, used for tracing and near the end of
//!   the budget) agree exactly on every observable, for any budget.

use proptest::prelude::*;
use rvbpf_rv64::emu::{EmuError, Hart, Memory, Perms, Stop};
use rvbpf_rv64::Reg;

const CODE: u64 = 0x1_0000;
const DATA: u64 = 0x2_0000;
const HOST: u64 = 0x7000_0000;

/// Code made mostly of valid instructions sprinkled with random bytes, so
/// runs get past the first few instructions.
fn code() -> impl Strategy<Value = Vec<u8>> {
    let word = prop_oneof![
        3 => rvbpf_rv64::testing::inst().prop_map(|i| rvbpf_rv64::encode(&i).to_le_bytes().to_vec()),
        2 => rvbpf_rv64::testing::inst().prop_map(|i| match rvbpf_rv64::compress(&i) {
            Some(h) => h.to_le_bytes().to_vec(),
            None => rvbpf_rv64::encode(&i).to_le_bytes().to_vec(),
        }),
        1 => prop::collection::vec(any::<u8>(), 1..5),
    ];
    prop::collection::vec(word, 1..64).prop_map(|w| w.concat())
}

fn registers() -> impl Strategy<Value = Vec<u64>> {
    // Pointers into the data block are likely enough to make memory
    // instructions succeed sometimes.
    let value = prop_oneof![
        any::<u64>(),
        (0u64..4096).prop_map(|o| DATA + o),
        (0u64..256).prop_map(|o| CODE + 2 * o),
        Just(HOST + 8),
    ];
    prop::collection::vec(value, 32)
}

fn machine(code: &[u8], regs: &[u64], rwx: bool) -> (Hart, Memory) {
    let mut mem = Memory::new();
    let perms = if rwx { Perms::RWX } else { Perms::RX };
    mem.add_region("code", CODE, perms, code.to_vec()).unwrap();
    mem.add_zeroed_region("data", DATA, 4096, Perms::RW)
        .unwrap();
    let mut hart = Hart::new();
    for (i, &v) in regs.iter().enumerate() {
        hart.set_reg(Reg::new(i as u8).unwrap(), v);
    }
    hart.set_host_calls(HOST, 4);
    hart.set_pc(CODE);
    (hart, mem)
}

/// Runs up to 20 stops, servicing host calls and resuming after
/// `ecall`/`ebreak`; returns the final result.
fn drive(hart: &mut Hart, mem: &mut Memory) -> Result<Stop, EmuError> {
    let mut last = Ok(Stop::Returned);
    for _ in 0..20 {
        last = hart.run(mem);
        match last {
            Ok(Stop::HostCall { number }) => {
                hart.set_return_value(u64::from(number));
                hart.return_from_host_call();
            }
            Ok(Stop::Ecall { .. } | Stop::Ebreak { .. }) => {}
            _ => return last,
        }
    }
    last
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_code_never_panics(code in code(), regs in registers(), rwx in any::<bool>(), budget in 0u64..2000) {
        let (mut hart, mut mem) = machine(&code, &regs, rwx);
        hart.set_budget(budget);
        let _ = drive(&mut hart, &mut mem);
        prop_assert!(hart.counters().instructions <= budget);
        prop_assert_eq!(hart.counters().instructions + hart.budget(), budget);
        prop_assert_eq!(hart.reg(Reg::ZERO), 0);
    }

    #[test]
    fn chain_mode_and_step_mode_agree(code in code(), regs in registers(), rwx in any::<bool>(), budget in 0u64..600) {
        let (mut fast, mut fast_mem) = machine(&code, &regs, rwx);
        let (mut step, mut step_mem) = machine(&code, &regs, rwx);
        fast.set_budget(budget);
        step.set_budget(budget);
        step.enable_trace(1); // tracing forces step mode
        let fast_end = drive(&mut fast, &mut fast_mem);
        let step_end = drive(&mut step, &mut step_mem);
        prop_assert_eq!(fast_end, step_end);
        prop_assert_eq!(fast.regs(), step.regs());
        prop_assert_eq!(fast.pc(), step.pc());
        prop_assert_eq!(fast.counters(), step.counters());
        prop_assert_eq!(fast.budget(), step.budget());
        prop_assert_eq!(fast_mem.region(fast_mem.region_id("data").unwrap()).data(),
                        step_mem.region(step_mem.region_id("data").unwrap()).data());
        prop_assert_eq!(fast_mem.region(fast_mem.region_id("code").unwrap()).data(),
                        step_mem.region(step_mem.region_id("code").unwrap()).data());
    }
}
