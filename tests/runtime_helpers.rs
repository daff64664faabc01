//! Built-in helpers (trace_printk, ktime, prandom, smp id), user helpers and
//! kfuncs, including the 32-bit argument convention.

mod runtime_support;

use runtime_support::{global_section, load_raw, object, raw, run};
use rvbpf::ebpf::object::{Object, ProgKind};
use rvbpf::{Ctx, Error, Vm};
use std::sync::{Arc, Mutex};

/// A read-only section holding NUL-terminated strings at fixed offsets.
fn strings(items: &[(usize, &str)]) -> rvbpf::ebpf::object::MapDef {
    let mut bytes = vec![0u8; 128];
    for &(off, s) in items {
        bytes[off..off + s.len()].copy_from_slice(s.as_bytes());
    }
    global_section(".rodata", bytes, &[], true)
}

#[test]
fn trace_printk_formats_into_the_log() {
    let ro = strings(&[
        (0, "a=%d b=%u c=%x"),
        (32, "%ld %lu %llx"),
        (64, "%s|%c|%%"),
        (96, "name"),
    ]);
    let asm = "lddw %r1, map_value:0+0\nmov %r2, 15\nmov %r3, -5\nmov %r4, -1\nmov %r5, 0xbeef\ncall 6\n\
               lddw %r1, map_value:0+32\nmov %r2, 13\nmov %r3, -5\nmov %r4, -1\nlddw %r5, 0x100000000\ncall 6\n\
               lddw %r1, map_value:0+64\nmov %r2, 9\nlddw %r3, map_value:0+96\nmov %r4, 65\ncall 6\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("p", vec![raw("p", asm)], vec![ro]))
        .unwrap();
    let p = vm.program(o, "p").unwrap();
    let out = run(&mut vm, p, &Ctx::empty());
    // Without `l`, %d/%u/%x take the low 32 bits: -5, 2^32-1, beef.
    // With `l`/`ll` all 64 bits. Each call appends one line.
    assert_eq!(
        vm.trace_log(),
        "a=-5 b=4294967295 c=beef\n-5 18446744073709551615 100000000\nname|A|%\n"
    );
    // trace_printk returns the bytes written: "name|A|%\n" is 9.
    assert_eq!(out.ret, 9);
    vm.clear_trace_log();
    assert_eq!(vm.trace_log(), "");
}

#[test]
fn trace_printk_rejects_an_unterminated_format() {
    // fmt_size 4 covers "a=%d" without its NUL: -EINVAL, nothing logged.
    let ro = strings(&[(0, "a=%d")]);
    let asm = "lddw %r1, map_value:0+0\nmov %r2, 4\nmov %r3, 1\ncall 6\nexit";
    let mut vm = Vm::new();
    let o = vm
        .load_object(object("p", vec![raw("p", asm)], vec![ro]))
        .unwrap();
    let p = vm.program(o, "p").unwrap();
    assert_eq!(run(&mut vm, p, &Ctx::empty()).ret as i64, -22);
    assert_eq!(vm.trace_log(), "");
}

#[test]
fn fake_clock_prandom_and_cpu_id_are_deterministic() {
    // ktime: starts at 1 s every run and advances 1000 ns per call.
    let mut vm = Vm::new();
    let t = load_raw(&mut vm, "call 5\nmov %r6, %r0\ncall 5\nsub %r0, %r6\nexit");
    assert_eq!(run(&mut vm, t, &Ctx::empty()).ret, 1000);
    let t0 = load_raw(&mut vm, "call 5\nexit");
    assert_eq!(run(&mut vm, t0, &Ctx::empty()).ret, 1_000_000_000);
    assert_eq!(run(&mut vm, t0, &Ctx::empty()).ret, 1_000_000_000);
    // prandom: same sequence every run, different values within a run, fits u32.
    let r = load_raw(
        &mut vm,
        "call 7\nmov %r6, %r0\ncall 7\nlsh %r0, 32\nor %r0, %r6\nexit",
    );
    let a = run(&mut vm, r, &Ctx::empty()).ret;
    assert_eq!(run(&mut vm, r, &Ctx::empty()).ret, a);
    assert_ne!(a >> 32, a & 0xffff_ffff);
    vm.set_prandom_seed(12345);
    assert_ne!(run(&mut vm, r, &Ctx::empty()).ret, a);
    let cpu = load_raw(&mut vm, "mov %r0, 7\ncall 8\nexit");
    assert_eq!(run(&mut vm, cpu, &Ctx::empty()).ret, 0);
    let numa = load_raw(&mut vm, "mov %r0, 7\ncall 42\nexit");
    assert_eq!(run(&mut vm, numa, &Ctx::empty()).ret, 0);
    // boot/coarse clocks share the fake clock: 1 s, then +1000 ns per call.
    let clocks = load_raw(
        &mut vm,
        "call 125\nmov %r6, %r0\ncall 160\nsub %r0, %r6\nexit",
    );
    assert_eq!(run(&mut vm, clocks, &Ctx::empty()).ret, 1000);
    // jiffies64 at 1 s with HZ = 250: 250.
    let jiffies = load_raw(&mut vm, "call 118\nexit");
    assert_eq!(run(&mut vm, jiffies, &Ctx::empty()).ret, 250);
}

#[test]
fn user_helpers_get_bounds_checked_memory() {
    let mut vm = Vm::new();
    // Helper 50: sum of the r2 bytes at r1.
    vm.register_helper(50, |env, a| {
        Ok(env
            .read(a[0], a[1] as usize)?
            .iter()
            .map(|&b| b as u64)
            .sum())
    });
    let p = load_raw(&mut vm, "call 50\nexit");
    assert_eq!(run(&mut vm, p, &Ctx::raw(vec![1, 2, 3, 4])).ret, 10);
    // Reading past the ctx is an OutOfBounds at the call's pc.
    let q = load_raw(&mut vm, "add %r2, 1\ncall 50\nexit");
    let e = vm
        .run(q, &Ctx::raw(vec![1, 2, 3, 4]), rvbpf::Engine::Interp)
        .unwrap_err();
    assert!(
        matches!(e, rvbpf::RunError::OutOfBounds { pc: 1, size: 5, .. }),
        "{e:?}"
    );
}

#[test]
fn unknown_helpers_and_kfuncs_are_rejected_at_load() {
    let mut vm = Vm::new();
    let e = vm
        .load_object(object("p", vec![raw("p", "call 999\nexit")], vec![]))
        .unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }), "{e}");
    let mut obj = object("k", vec![raw("k", "call runtime 0\nexit")], vec![]);
    obj.kfuncs = vec!["not_registered".into()];
    assert!(matches!(
        vm.load_object(obj).unwrap_err(),
        Error::Rejected { .. }
    ));
}

fn kfunc_object(asm: &str) -> Object {
    let mut obj = object("k", vec![raw("k", asm)], vec![]);
    obj.kfuncs = vec!["neg_double".into()];
    obj
}

#[test]
fn kfunc_with_a_negative_int_argument() {
    // int neg_double(int x) { return 2 * x; } — the kfunc gets the raw
    // register and must truncate it to i32 itself.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut vm = Vm::new();
    let log = seen.clone();
    vm.register_kfunc("neg_double", move |_, a| {
        log.lock().unwrap().push(a[0]);
        Ok((2 * (a[0] as i32) as i64) as u64)
    });
    // mov32 leaves -5 zero-extended in r1: 0x0000_0000_ffff_fffb.
    let o = vm
        .load_object(kfunc_object("mov32 %r1, -5\ncall runtime 0\nexit"))
        .unwrap();
    let p = vm.program(o, "k").unwrap();
    let out = run(&mut vm, p, &Ctx::empty());
    assert_eq!(out.ret as i64, -10);
    assert_eq!(out.stats.kfunc_calls, 1);
    // mov (64-bit) sign-extends: 0xffff_ffff_ffff_fffb. Same result.
    let o = vm
        .load_object(kfunc_object("mov %r1, -5\ncall runtime 0\nexit"))
        .unwrap();
    let p = vm.program(o, "k").unwrap();
    assert_eq!(run(&mut vm, p, &Ctx::empty()).ret as i64, -10);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.first(), Some(&0xffff_fffb));
    assert_eq!(seen.last(), Some(&0xffff_ffff_ffff_fffb));
}

#[test]
fn kfunc_arguments_are_widened_as_the_riscv_psabi_requires() {
    // crates/ebpf/tests/fixtures/kfunc_args.c, run with skb->len = 4. The
    // program computes every argument with 32-bit BPF ops (see its
    // disassembly: `w1 += -10`, `w3 s>>= 24`, `w4 &= 65535` ...), so the
    // registers hold them zero-extended from bit 31. What each kfunc must
    // see, by the psABI rule for its declared type:
    //   int a = 4 - 10 = -6                → 0xffff_ffff_ffff_fffa
    //   unsigned b = 4 << 29 = 0x8000_0000 → 0xffff_ffff_8000_0000 (sign-extended too)
    //   signed char c = (s8)200 = -56      → 0xffff_ffff_ffff_ffc8
    //   unsigned short d = (u16)0x1_0004   → 4
    //   u64 e = 4 << 40                    → 0x0000_0400_0000_0000
    //   bool f = 1; unsigned char u = (u8)254 → 0xfe;
    //   short s = (s16)0x8000 = -32768     → 0xffff_ffff_ffff_8000
    // Every engine runs (runtime_support::run), so the log holds one entry
    // per engine and call; all must match.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut vm = Vm::new();
    for name in ["bpf_kfunc_widths", "bpf_kfunc_flag"] {
        let log = seen.clone();
        vm.register_kfunc(name, move |_, a| {
            log.lock().unwrap().push((name, a));
            Ok(1)
        });
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/ebpf/tests/fixtures/kfunc_args.o"
    );
    let o = vm.load_elf_file(path).unwrap();
    let p = vm.program(o, "kfunc_args").unwrap();
    assert_eq!(run(&mut vm, p, &Ctx::zeros(4)).ret, 2);
    let seen = seen.lock().unwrap();
    let engines = rvbpf::Engine::all().len();
    assert_eq!(seen.len(), 2 * engines);
    for (name, a) in seen.iter() {
        match *name {
            "bpf_kfunc_widths" => assert_eq!(
                *a,
                [
                    0xffff_ffff_ffff_fffa,
                    0xffff_ffff_8000_0000,
                    0xffff_ffff_ffff_ffc8,
                    4,
                    0x0000_0400_0000_0000
                ]
            ),
            _ => assert_eq!(a[..3], [1, 0xfe, 0xffff_ffff_ffff_8000]),
        }
    }
}

#[test]
fn kfuncs_and_globals_from_an_elf_object() {
    // crates/ebpf/tests/fixtures/kfunc_globals.c with example(x) = x + 100 and
    // other(x, y) = x * y, skb->len = 4:
    //   r = example(4) = 104; static_zero += 104;
    //   helper_sub(104): static_counter 3 → 4, returns other(104, 4) + custom_b = 416 + 22 = 438;
    //   table[4 & 3] = 1 → example(1) = 101.   Total 104 + 438 + 101 = 643.
    let mut vm = Vm::new();
    vm.register_kfunc("bpf_kfunc_example", |_, a| {
        Ok(((a[0] as i32) + 100) as i64 as u64)
    });
    vm.register_kfunc("bpf_kfunc_other", |_, a| {
        Ok(((a[0] as i32) * (a[1] as i32)) as i64 as u64)
    });
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/ebpf/tests/fixtures/kfunc_globals.o"
    );
    let o = vm.load_elf_file(path).unwrap();
    let p = vm.program(o, "kfunc_prog").unwrap();
    assert!(matches!(vm.program_info(p).unwrap().1, ProgKind::SchedCls));
    assert_eq!(run(&mut vm, p, &Ctx::zeros(4)).ret, 643);
    assert_eq!(vm.global(o, "custom_a").unwrap().as_int(), Some(11));
    let names: Vec<String> = vm.globals(o).unwrap().into_iter().map(|g| g.name).collect();
    assert!(names.contains(&"custom_b".to_string()), "{names:?}");
}
