//! rbpf's interpreter (`EbpfVmMbuff::execute_program`). rbpf has no
//! instruction meter; it checks every load and store against its regions.

use rbpf::EbpfVmMbuff;

/// A program verified and loaded into rbpf, plus its input.
pub struct Rbpf<'a> {
    vm: EbpfVmMbuff<'a>,
    input: &'a [u8],
}

impl<'a> Rbpf<'a> {
    /// Loads (and runs rbpf's verifier on) raw eBPF bytes.
    pub fn new(code: &'a [u8], input: &'a [u8]) -> Result<Rbpf<'a>, String> {
        let vm = EbpfVmMbuff::new(Some(code)).map_err(|e| format!("rbpf: {e}"))?;
        Ok(Rbpf { vm, input })
    }

    /// One run: `r0`. The input goes in as rbpf's `mem` with no metadata
    /// buffer, so `r1` points at it; shared borrows suffice because the
    /// programs never store to it (rbpf's `EbpfVmRaw` would want the buffer
    /// borrowed mutably for the VM's whole lifetime).
    pub fn run(&self) -> u64 {
        match self.vm.execute_program(self.input, &[]) {
            Ok(r0) => r0,
            Err(e) => panic!("rbpf run failed: {e}"),
        }
    }
}
