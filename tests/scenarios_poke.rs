//! Catalogue 4.4 tailcall_poke, as a concurrency test: one thread keeps
//! rewriting slot 0 of a prog array (call1, call2, call1, ...) while the
//! thread owning the `Vm` loads 10 fresh instances of the object that reuse
//! the same map (Linux: a pinned map) and runs their `test` program, which
//! tail-calls slot 0. Every load must succeed, nothing may hang, and every
//! run must see a whole program: call1 returns 1, call2 returns 2 (a torn or
//! stale-but-invalid slot would give 0 or an error).

mod scenario_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use rvbpf::ebpf::elf::load_elf;
use rvbpf::LoadOptions;
use scenario_support::{engines, fixture, Scenario, PKT_V4};

/// Linux loads instance B 10 times.
const INSTANCES: usize = 10;
/// Runs of `test` per instance.
const RUNS_PER_INSTANCE: usize = 100;

#[test]
fn tailcall_poke() {
    let bytes = std::fs::read(fixture("tailcall_poke")).expect("fixture");
    for engine in engines() {
        // Instance A provides call1/call2 and the shared jmp_table.
        let mut s = Scenario::load("tailcall_poke", engine);
        let (call1, call2) = (s.prog("call1"), s.prog("call2"));
        let table = s.map("jmp_table");
        s.set_slot(0, "call1"); // populated before any run
        let slots = s.vm.prog_array_handle(table).expect("prog array");

        let stop = Arc::new(AtomicBool::new(false));
        let updates = Arc::new(AtomicU64::new(0));
        let writer = {
            let (stop, updates) = (Arc::clone(&stop), Arc::clone(&updates));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for prog in [call1, call2] {
                        slots.set_prog(0, prog).expect("slot 0 update");
                        updates.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        };

        // Start loading only once the writer is really running, so loads and
        // updates overlap even on a busy machine.
        while updates.load(Ordering::Relaxed) < 2 {
            thread::yield_now();
        }

        let mut seen = [0usize; 3];
        for i in 0..INSTANCES {
            let obj = load_elf("tailcall_poke.o", &bytes).expect("parse");
            let opts = LoadOptions {
                reuse_maps: vec![("jmp_table".to_string(), table)],
            };
            let b =
                s.vm.load_object_with(obj, &opts)
                    .unwrap_or_else(|e| panic!("{engine:?}: load of instance {i}: {e}"));
            let test = s.prog_in(b, "test");
            for _ in 0..RUNS_PER_INSTANCE {
                let ret = s.run_id(test, &PKT_V4);
                assert!(
                    ret == 1 || ret == 2,
                    "{engine:?}: instance {i}: test returned {ret}"
                );
                seen[ret as usize] += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("writer thread");
        assert_eq!(seen[1] + seen[2], INSTANCES * RUNS_PER_INSTANCE);
    }
}
