//! A coarse instruction budget for native runs: JIT'd code counts nothing,
//! so the Vm's budget (in instructions) becomes a limit on the run's
//! thread CPU time, enforced by a per-thread timer whose SIGALRM the fault
//! handler (`fault.rs`) turns into `BudgetExhausted` when it lands in JIT'd
//! code (and ignores elsewhere: the timer then fires again every 10 ms
//! until the code is reached or the run ends).

use std::time::Duration;

/// CPU time every run gets, whatever its budget (startup, host calls).
const BASE: Duration = Duration::from_millis(200);
/// CPU time per budgeted instruction: generous (real hardware retires
/// about one instruction per ns; qemu a few times fewer).
const PER_INSN_NS: u64 = 50;
/// How often the timer fires again once it expired outside JIT'd code.
const RETRY: Duration = Duration::from_millis(10);

/// The CPU time a run with an instruction budget of `insns` may use.
pub(super) fn limit(insns: u64) -> Duration {
    BASE + Duration::from_nanos(insns.saturating_mul(PER_INSN_NS))
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    }
}

/// A running per-thread CPU-time timer; deleted when dropped.
pub(super) struct Timer(libc::timer_t);

impl Timer {
    /// Starts a timer delivering SIGALRM to this thread after `limit` of
    /// its CPU time. `None` if the system refuses one (the run then has no
    /// budget).
    pub fn start(limit: Duration) -> Option<Timer> {
        // SAFETY: a zeroed sigevent is valid; the fields set below select
        // a signal to this thread (gettid has no preconditions).
        let mut ev: libc::sigevent = unsafe { std::mem::zeroed() };
        ev.sigev_notify = libc::SIGEV_THREAD_ID;
        ev.sigev_signo = libc::SIGALRM;
        // SAFETY: as above.
        ev.sigev_notify_thread_id = unsafe { libc::gettid() };
        let mut id: libc::timer_t = std::ptr::null_mut();
        // SAFETY: `ev` and `id` are valid for the call.
        if unsafe { libc::timer_create(libc::CLOCK_THREAD_CPUTIME_ID, &mut ev, &mut id) } != 0 {
            return None;
        }
        let spec = libc::itimerspec {
            it_interval: timespec(RETRY),
            it_value: timespec(limit.max(Duration::from_nanos(1))),
        };
        // SAFETY: `id` is the timer just created.
        if unsafe { libc::timer_settime(id, 0, &spec, std::ptr::null_mut()) } != 0 {
            // SAFETY: as above.
            unsafe { libc::timer_delete(id) };
            return None;
        }
        Some(Timer(id))
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: our timer; deleting it also discards a pending expiry.
        unsafe { libc::timer_delete(self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_grows_with_the_budget() {
        // 1M instructions at 50 ns each on top of the 200 ms base.
        assert_eq!(limit(1_000_000), Duration::from_millis(250));
        assert_eq!(limit(0), BASE);
        // A huge budget saturates instead of overflowing.
        assert_eq!(limit(u64::MAX), BASE + Duration::from_nanos(u64::MAX));
    }
}
