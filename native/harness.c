/*
 * rvbpf native harness: runs JIT images as native RV64 code (under
 * qemu-riscv64, or on real RISC-V hardware) and prints each one's r0.
 *
 * Usage: harness BATCH_FILE
 *
 * The batch file (written by crates/jit/tests/qemu_support) holds many
 * cases; all integers are little-endian:
 *
 *   magic    8 bytes  "RVBPFNB2"
 *   count    u32      number of cases
 *   then per case:
 *     name     u32 length, then that many bytes (no spaces, no NUL)
 *     code     u32 length, then the image's code bytes (text + literal pool)
 *     entry    u32      offset of the entry function in code
 *     relocs   u32 count, then per relocation:
 *                u32 offset   of the 8-byte literal-pool slot in code
 *                u32 kind     1 = helper (arg = its number),
 *                             2 = callx dispatcher,
 *                             3 = anything else (maps, kfuncs): unsupported
 *                u32 arg
 *     mem      u32 length, then the bytes the program gets as memory
 *     expected u64      r0 the interpreter computed (printed for reference)
 *     flags    u32      bit 0: run inside the sandbox (below); bit 1: with
 *                       the native stack inside it too (the weaker layout)
 *     secret   u32      offset in mem where the harness writes the address
 *                       of its `secret` variable, or 0xffffffff for none
 *
 * Per case one line on stdout:
 *
 *   result NAME 0xR0 expected 0xEXPECTED ok|MISMATCH
 *   error NAME WHY          (fault, timeout, unsupported relocation, ...)
 *
 * and, for a case that was given the secret's address, a second line
 *
 *   secret NAME intact|MODIFIED
 *
 * Sandboxed cases (JIT images compiled with rvbpf_jit::Sandbox::Masked)
 * run the way a native engine would run them: on first use the harness
 * reserves [SANDBOX_LOW, 2^36) (PROT_NONE, MAP_NORESERVE), and per case it
 * maps the memory at its VM address (ctx, 0x1000_0000), the 256 KiB VM
 * stack region (0x4000_0000) and a native stack of the same size 2^36
 * above it, and calls the image with sp at the top of the native stack.
 * The masked prologue sets r10 to the mirror of its frame in the VM stack
 * region, so r10-based pointers are VM addresses while saved registers
 * and return addresses stay outside the sandbox. With flag bit 1, sp starts
 * at the top of the VM stack region itself (control data inside the
 * sandbox, to show what the native stack's placement protects). The
 * code, the literal pool, the harness and `secret` all lie above 2^36 (the
 * harness must be built as a PIE, `build.sh --pie`, so that qemu loads it
 * high; the check is made at run time). Below SANDBOX_LOW nothing can be
 * mapped (Linux's mmap_min_addr), which serves as the null guard.
 *
 * then `done COUNT`. Exit status: 0 when every case returned its expected
 * value, 1 when some did not, 2 when the batch file is unusable.
 *
 * Each image is called as `uint64_t entry(void *mem, uint64_t len)`: the
 * JIT's register map puts BPF R1/R2 in a0/a1 and returns R0 in a0, and the
 * function header at the entry initialises the tail-call counter (a6)
 * itself. An empty memory passes NULL and 0 (the conformance suites'
 * convention); the memory ends just before an inaccessible page, so reading
 * or writing past it faults. The call goes through `call_checked` (below), which fills
 * s0..s11 with canaries and a6 with garbage first and checks afterwards
 * that s0..s11 and sp survived, as the C calling convention requires.
 *
 * Helpers are ubpf's conformance test helpers under ubpf's numbers
 * (0 gather_bytes, 1 memfrob, 2 no_op, 3 sqrti, 4 strcmp_ext, 5 unwind).
 * A fault (SIGSEGV, SIGBUS, SIGILL, ...) or a run longer than
 * TIMEOUT_SECONDS ends only that case.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TIMEOUT_SECONDS 10
#define RELOC_HELPER 1
#define RELOC_DISPATCH 2

#define FLAG_SANDBOXED 1u
#define FLAG_STACK_IN_SANDBOX 2u
#define NO_SECRET 0xffffffffu
/* The masked range and the VM addresses (rvbpf_jit::SANDBOX_BITS,
 * src/memory/mod.rs). */
#define SANDBOX_SIZE (1ull << 36)
#define SANDBOX_LOW 0x10000ull
#define VM_CTX_BASE 0x10000000ull
#define VM_STACK_BASE 0x40000000ull
#define VM_STACK_SIZE (256ull * 1024)
/* The native stack of sandboxed cases: its mirror (mod 2^36) is the VM stack. */
#define NATIVE_STACK_BASE (SANDBOX_SIZE + VM_STACK_BASE)
#define SECRET_VALUE 0x5ec7e75ec7e75ec7ull

/* What hostile cases try to read or modify through its real address. */
static volatile uint64_t secret = SECRET_VALUE;

/* Why a case stopped early (the value siglongjmp delivers). */
enum stop {
    STOP_NONE = 0,
    STOP_UNWIND = 1,          /* helper 5 with argument 0: r0 = 0 */
    STOP_UNKNOWN_HELPER = 2,  /* callx with a number no helper has */
    STOP_SIGNAL_BASE = 100,   /* + signal number */
};

static sigjmp_buf case_jump;
static uint64_t unknown_helper_number;

/* ---- the image's view of the world: C-ABI helpers ------------------- */

static uint64_t helper_gather_bytes(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    return ((a & 0xff) << 32) | ((b & 0xff) << 24) | ((c & 0xff) << 16) | ((d & 0xff) << 8) |
           (e & 0xff);
}

static uint64_t helper_memfrob(uint64_t addr, uint64_t len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)addr;
    for (uint64_t i = 0; i < len; i++)
        p[i] ^= 42;
    return 0;
}

static uint64_t helper_no_op(void)
{
    return 0;
}

/* floor(sqrt(a)) computed in double, like ubpf's std::sqrt. */
static uint64_t helper_sqrti(uint64_t a)
{
    return (uint64_t)sqrt((double)a);
}

/* strcmp's sign as -1, 0 or 1, sign-extended to 64 bits. */
static uint64_t helper_strcmp_ext(uint64_t a, uint64_t b)
{
    int r = strcmp((const char *)(uintptr_t)a, (const char *)(uintptr_t)b);
    return r < 0 ? (uint64_t)-1 : (uint64_t)(r > 0);
}

/* ubpf's unwind extension: returns its argument; 0 ends the program with
 * r0 = 0 (unwinding the JIT's frames: siglongjmp restores sp and s0..s11). */
static uint64_t helper_unwind(uint64_t a)
{
    if (a == 0)
        siglongjmp(case_jump, STOP_UNWIND);
    return a;
}

/* The five helpers share one C signature so the loader can store their
 * addresses in literal-pool slots uniformly. */
typedef uint64_t (*helper_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static uint64_t h0(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    return helper_gather_bytes(a, b, c, d, e);
}
static uint64_t h1(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    (void)c, (void)d, (void)e;
    return helper_memfrob(a, b);
}
static uint64_t h2(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    (void)a, (void)b, (void)c, (void)d, (void)e;
    return helper_no_op();
}
static uint64_t h3(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    (void)b, (void)c, (void)d, (void)e;
    return helper_sqrti(a);
}
static uint64_t h4(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    (void)c, (void)d, (void)e;
    return helper_strcmp_ext(a, b);
}
static uint64_t h5(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    (void)b, (void)c, (void)d, (void)e;
    return helper_unwind(a);
}

static const helper_fn helpers[] = {h0, h1, h2, h3, h4, h5};
#define HELPER_COUNT (sizeof helpers / sizeof helpers[0])

/* `callx`: the JIT passes the helper number as the sixth C argument. */
static uint64_t helper_dispatch(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                                uint64_t number)
{
    if (number >= HELPER_COUNT) {
        unknown_helper_number = number;
        siglongjmp(case_jump, STOP_UNKNOWN_HELPER);
    }
    return helpers[number](a, b, c, d, e);
}

/* ---- call_checked: the call into JIT code, with ABI checks ----------- */

/*
 * uint64_t call_checked(void *entry, void *mem, uint64_t len, uint64_t *abi_broken,
 *                       uint64_t stack_top)
 *
 * Saves ra and s0..s11, sets s0..s11 to canaries and a6 to garbage (the
 * image's header must initialise it), switches sp to stack_top unless it
 * is 0, calls entry(mem, len), then stores into *abi_broken a non-zero
 * value if any canary or sp changed, and switches back to its own stack.
 */
__asm__(
    "   .text\n"
    "   .globl call_checked\n"
    "   .type call_checked, @function\n"
    "call_checked:\n"
    "   addi sp, sp, -112\n"
    "   sd ra, 0(sp)\n"
    "   sd s0, 8(sp)\n"
    "   sd s1, 16(sp)\n"
    "   sd s2, 24(sp)\n"
    "   sd s3, 32(sp)\n"
    "   sd s4, 40(sp)\n"
    "   sd s5, 48(sp)\n"
    "   sd s6, 56(sp)\n"
    "   sd s7, 64(sp)\n"
    "   sd s8, 72(sp)\n"
    "   sd s9, 80(sp)\n"
    "   sd s10, 88(sp)\n"
    "   sd s11, 96(sp)\n"
    "   sd a3, 104(sp)\n"
    "   la t0, call_checked_sp\n"
    "   sd sp, 0(t0)\n"
    "   beqz a4, 1f\n"
    "   mv sp, a4\n"
    "1: la t0, call_checked_entry_sp\n"
    "   sd sp, 0(t0)\n"
    "   li s0, 0x5a5a000000000000\n"
    "   li s1, 0x5a5a000000000001\n"
    "   li s2, 0x5a5a000000000002\n"
    "   li s3, 0x5a5a000000000003\n"
    "   li s4, 0x5a5a000000000004\n"
    "   li s5, 0x5a5a000000000005\n"
    "   li s6, 0x5a5a000000000006\n"
    "   li s7, 0x5a5a000000000007\n"
    "   li s8, 0x5a5a000000000008\n"
    "   li s9, 0x5a5a000000000009\n"
    "   li s10, 0x5a5a00000000000a\n"
    "   li s11, 0x5a5a00000000000b\n"
    "   li a6, 0xdeadbeefdeadbeef\n"
    "   mv t0, a0\n"
    "   mv a0, a1\n"
    "   mv a1, a2\n"
    "   jalr ra, 0(t0)\n"
    /* t2 accumulates the differences (0 when everything survived). */
    "   la t0, call_checked_entry_sp\n"
    "   ld t0, 0(t0)\n"
    "   xor t2, t0, sp\n"
    "   li t1, 0x5a5a000000000000\n  xor t1, t1, s0\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000001\n  xor t1, t1, s1\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000002\n  xor t1, t1, s2\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000003\n  xor t1, t1, s3\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000004\n  xor t1, t1, s4\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000005\n  xor t1, t1, s5\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000006\n  xor t1, t1, s6\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000007\n  xor t1, t1, s7\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000008\n  xor t1, t1, s8\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a000000000009\n  xor t1, t1, s9\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a00000000000a\n  xor t1, t1, s10\n  or t2, t2, t1\n"
    "   li t1, 0x5a5a00000000000b\n  xor t1, t1, s11\n  or t2, t2, t1\n"
    /* Back to this function's frame (a changed sp would make the reloads
     * below read garbage). */
    "   la t0, call_checked_sp\n"
    "   ld t0, 0(t0)\n"
    "   mv sp, t0\n"
    "   ld a3, 104(sp)\n"
    "   sd t2, 0(a3)\n"
    "   ld ra, 0(sp)\n"
    "   ld s0, 8(sp)\n"
    "   ld s1, 16(sp)\n"
    "   ld s2, 24(sp)\n"
    "   ld s3, 32(sp)\n"
    "   ld s4, 40(sp)\n"
    "   ld s5, 48(sp)\n"
    "   ld s6, 56(sp)\n"
    "   ld s7, 64(sp)\n"
    "   ld s8, 72(sp)\n"
    "   ld s9, 80(sp)\n"
    "   ld s10, 88(sp)\n"
    "   ld s11, 96(sp)\n"
    "   addi sp, sp, 112\n"
    "   ret\n"
    "   .size call_checked, .-call_checked\n");

uint64_t call_checked_sp, call_checked_entry_sp;
uint64_t call_checked(void *entry, void *mem, uint64_t len, uint64_t *abi_broken,
                      uint64_t stack_top);

/* ---- batch file reading --------------------------------------------- */

struct reader {
    const unsigned char *p;
    size_t left;
};

static int take(struct reader *r, size_t n, const unsigned char **out)
{
    if (r->left < n)
        return -1;
    *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

static int take_u32(struct reader *r, uint32_t *v)
{
    const unsigned char *b;
    if (take(r, 4, &b))
        return -1;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

static int take_u64(struct reader *r, uint64_t *v)
{
    uint32_t lo, hi;
    if (take_u32(r, &lo) || take_u32(r, &hi))
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

/* u32 length then that many bytes. */
static int take_blob(struct reader *r, const unsigned char **p, uint32_t *len)
{
    return take_u32(r, len) || take(r, *len, p) ? -1 : 0;
}

struct reloc {
    uint32_t offset, kind, arg;
};

struct image_case {
    const unsigned char *name, *code, *mem;
    uint32_t name_len, code_len, entry, mem_len, reloc_count;
    const unsigned char *relocs; /* reloc_count * 12 raw bytes */
    uint64_t expected;
    uint32_t flags, secret_at;
};

static int read_case(struct reader *r, struct image_case *c)
{
    const unsigned char *ignored;
    if (take_blob(r, &c->name, &c->name_len) || take_blob(r, &c->code, &c->code_len) ||
        take_u32(r, &c->entry) || take_u32(r, &c->reloc_count))
        return -1;
    c->relocs = r->p;
    if ((uint64_t)c->reloc_count * 12 > r->left || take(r, (size_t)c->reloc_count * 12, &ignored))
        return -1;
    return take_blob(r, &c->mem, &c->mem_len) || take_u64(r, &c->expected) ||
                   take_u32(r, &c->flags) || take_u32(r, &c->secret_at)
               ? -1
               : 0;
}

static struct reloc reloc_at(const struct image_case *c, uint32_t i)
{
    struct reader r = {c->relocs + (size_t)i * 12, 12};
    struct reloc out;
    take_u32(&r, &out.offset);
    take_u32(&r, &out.kind);
    take_u32(&r, &out.arg);
    return out;
}

/* ---- running one case ------------------------------------------------ */

static void on_signal(int sig)
{
    siglongjmp(case_jump, STOP_SIGNAL_BASE + sig);
}

static void install_signal_handlers(void)
{
    static char alt_stack[64 * 1024];
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        perror("sigaltstack");
        exit(2);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    const int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGALRM};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (sigaction(signals[i], &sa, NULL) != 0) {
            perror("sigaction");
            exit(2);
        }
    }
}

/* A mapping whose last page is inaccessible. */
struct guarded {
    void *base;
    unsigned char *guard;
    size_t len;
};

/* `len` bytes ending at most 7 bytes before an inaccessible guard page
 * (the start stays 8-byte aligned, like malloc's), so an access past the
 * program's memory faults instead of reading a neighbour. NULL on failure. */
static unsigned char *guarded_alloc(size_t len, size_t page, struct guarded *g)
{
    size_t data_pages = (len + page - 1) / page;
    g->len = (data_pages + 1) * page;
    g->base = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED) {
        g->base = NULL;
        return NULL;
    }
    g->guard = (unsigned char *)g->base + data_pages * page;
    if (mprotect(g->guard, page, PROT_NONE) != 0) {
        munmap(g->base, g->len);
        g->base = NULL;
        return NULL;
    }
    return (unsigned char *)((uintptr_t)(g->guard - len) & ~(uintptr_t)7);
}

/* ---- the sandbox ---------------------------------------------------- */

/* Reserves [SANDBOX_LOW, SANDBOX_SIZE) once; 0 on success, else -1 and
 * *why. Everything the harness owns must lie above it. */
static int reserve_sandbox(const char **why)
{
    static int reserved;
    if (reserved)
        return 0;
    size_t len = SANDBOX_SIZE - SANDBOX_LOW;
    void *want = (void *)(uintptr_t)SANDBOX_LOW;
    void *got = mmap(want, len, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (got != want) {
        if (got != MAP_FAILED)
            munmap(got, len); /* taken as a hint: something is in the way */
        *why = "cannot reserve [0x10000, 2^36): something is mapped there";
        return -1;
    }
    if ((uintptr_t)&secret < SANDBOX_SIZE || (uintptr_t)&reserve_sandbox < SANDBOX_SIZE) {
        *why = "the harness lies inside the sandbox range (build it with build.sh --pie)";
        return -1;
    }
    reserved = 1;
    return 0;
}

/* Maps `len` bytes read-write at VM address `addr` inside the reservation. */
/* (noinline: keeps its locals out of run_case's sigsetjmp frame.) */
__attribute__((noinline)) static void *sandbox_map(uint64_t addr, size_t len)
{
    void *p = mmap((void *)(uintptr_t)addr, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Maps the native stack of sandboxed cases (outside the reservation, so it
 * must not replace anything: NOREPLACE, and the address is checked). */
__attribute__((noinline)) static void *native_stack_map(void)
{
    void *want = (void *)(uintptr_t)NATIVE_STACK_BASE;
    void *p = mmap(want, VM_STACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != want && p != MAP_FAILED)
        munmap(p, VM_STACK_SIZE);
    return p == want ? p : NULL;
}

/* Returns a range to the reservation (inaccessible, contents dropped). */
static void sandbox_unmap(uint64_t addr, size_t len)
{
    mmap((void *)(uintptr_t)addr, len, PROT_NONE,
         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* Undoes the per-case mappings of a sandboxed case. */
static void release_case_regions(size_t mem_len)
{
    if (mem_len > 0)
        sandbox_unmap(VM_CTX_BASE, mem_len);
    sandbox_unmap(VM_STACK_BASE, VM_STACK_SIZE);
    munmap((void *)(uintptr_t)NATIVE_STACK_BASE, VM_STACK_SIZE);
}

static size_t round_to_page(size_t n, size_t page)
{
    return (n + page - 1) / page * page;
}

/* Where a literal-pool slot gets its value from; 0 (and *why) when the
 * harness cannot provide it. */
static uint64_t resolve(const struct reloc *r, const char **why)
{
    switch (r->kind) {
    case RELOC_HELPER:
        if (r->arg < HELPER_COUNT)
            return (uint64_t)(uintptr_t)helpers[r->arg];
        *why = "call of a helper the harness does not implement";
        return 0;
    case RELOC_DISPATCH:
        return (uint64_t)(uintptr_t)helper_dispatch;
    default:
        *why = "map, global or kfunc relocation (not supported by this harness)";
        return 0;
    }
}

/* Maps the code, applies the relocations, runs it. Returns 0 and *r0 on a
 * normal return; otherwise prints an `error` line and returns -1. When the
 * case ran with the secret's address, *secret_line says whether the
 * secret survived (else it stays NULL). */
static int run_case(const struct image_case *c, uint64_t *r0, const char **secret_line)
{
    const char *why = NULL;
    char reason[160];
    int name_len = (int)c->name_len;
    const char *name = (const char *)c->name;
    if (c->entry >= c->code_len || c->code_len == 0) {
        printf("error %.*s entry %u outside code of %u bytes\n", name_len, name, c->entry,
               c->code_len);
        return -1;
    }
    long page = sysconf(_SC_PAGESIZE);
    size_t map_len = ((size_t)c->code_len + (size_t)page - 1) / (size_t)page * (size_t)page;
    unsigned char *code =
        mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        printf("error %.*s mmap: %s\n", name_len, name, strerror(errno));
        return -1;
    }
    memcpy(code, c->code, c->code_len);
    for (uint32_t i = 0; i < c->reloc_count && !why; i++) {
        struct reloc r = reloc_at(c, i);
        if (r.offset > c->code_len - 8 || c->code_len < 8 || r.offset % 8 != 0) {
            snprintf(reason, sizeof reason, "relocation at %u is not an aligned pool slot",
                     r.offset);
            why = reason;
            break;
        }
        uint64_t value = resolve(&r, &why);
        memcpy(code + r.offset, &value, 8);
    }
    if (why) {
        printf("error %.*s %s\n", name_len, name, why);
        munmap(code, map_len);
        return -1;
    }
    if (mprotect(code, map_len, PROT_READ | PROT_EXEC) != 0) {
        printf("error %.*s mprotect: %s\n", name_len, name, strerror(errno));
        munmap(code, map_len);
        return -1;
    }
    __builtin___clear_cache((char *)code, (char *)code + c->code_len);

    struct guarded mem_area = {NULL, NULL, 0};
    unsigned char *mem = NULL;
    int sandboxed = (c->flags & FLAG_SANDBOXED) != 0;
    size_t sandbox_mem_len = round_to_page(c->mem_len, (size_t)page);
    uint64_t stack_top = 0;
    if (sandboxed) {
        if (reserve_sandbox(&why) != 0 || (uintptr_t)code < SANDBOX_SIZE) {
            printf("error %.*s %s\n", name_len, name,
                   why ? why : "code was mapped inside the sandbox range");
            munmap(code, map_len);
            return -1;
        }
        if ((c->mem_len > 0 && !(mem = sandbox_map(VM_CTX_BASE, sandbox_mem_len))) ||
            !sandbox_map(VM_STACK_BASE, VM_STACK_SIZE) ||
            !native_stack_map()) {
            printf("error %.*s cannot map sandbox regions: %s\n", name_len, name,
                   strerror(errno));
            release_case_regions(sandbox_mem_len);
            munmap(code, map_len);
            return -1;
        }
        stack_top = (c->flags & FLAG_STACK_IN_SANDBOX ? VM_STACK_BASE : NATIVE_STACK_BASE) +
                    VM_STACK_SIZE;
    } else if (c->mem_len > 0) {
        mem = guarded_alloc(c->mem_len, (size_t)page, &mem_area);
        if (!mem) {
            printf("error %.*s cannot map memory: %s\n", name_len, name, strerror(errno));
            munmap(code, map_len);
            return -1;
        }
    }
    if (mem)
        memcpy(mem, c->mem, c->mem_len);
    secret = SECRET_VALUE;
    if (c->secret_at != NO_SECRET) {
        if (!mem || c->mem_len < 8 || c->secret_at > c->mem_len - 8) {
            printf("error %.*s secret offset %u outside memory\n", name_len, name, c->secret_at);
            if (sandboxed)
                release_case_regions(sandbox_mem_len);
            if (mem_area.base)
                munmap(mem_area.base, mem_area.len);
            munmap(code, map_len);
            return -1;
        }
        uint64_t where = (uint64_t)(uintptr_t)&secret;
        memcpy(mem + c->secret_at, &where, 8);
    }

    /* volatile: read after siglongjmp. */
    volatile int status = 0;
    uint64_t abi_broken = 0;
    int stop = sigsetjmp(case_jump, 1);
    if (stop == STOP_NONE) {
        alarm(TIMEOUT_SECONDS);
        *r0 = call_checked(code + c->entry, mem, c->mem_len, &abi_broken, stack_top);
        alarm(0);
        if (abi_broken) {
            printf("error %.*s callee-saved register or sp not preserved (diff %#llx)\n",
                   name_len, name, (unsigned long long)abi_broken);
            status = -1;
        }
    } else {
        alarm(0);
        if (stop == STOP_UNWIND) {
            *r0 = 0;
        } else if (stop == STOP_UNKNOWN_HELPER) {
            printf("error %.*s callx of unknown helper %llu\n", name_len, name,
                   (unsigned long long)unknown_helper_number);
            status = -1;
        } else if (stop - STOP_SIGNAL_BASE == SIGALRM) {
            printf("error %.*s timeout after %d s\n", name_len, name, TIMEOUT_SECONDS);
            status = -1;
        } else {
            printf("error %.*s signal %d (%s)\n", name_len, name, stop - STOP_SIGNAL_BASE,
                   strsignal(stop - STOP_SIGNAL_BASE));
            status = -1;
        }
    }
    if (c->secret_at != NO_SECRET)
        *secret_line = secret == SECRET_VALUE ? "intact" : "MODIFIED";
    if (sandboxed)
        release_case_regions(sandbox_mem_len);
    if (mem_area.base)
        munmap(mem_area.base, mem_area.len);
    munmap(code, map_len);
    return status;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    if (ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s BATCH_FILE\n", argv[0]);
        return 2;
    }
    size_t len;
    unsigned char *data = read_file(argv[1], &len);
    if (!data) {
        fprintf(stderr, "%s: cannot read: %s\n", argv[1], strerror(errno));
        return 2;
    }
    struct reader r = {data, len};
    const unsigned char *magic;
    uint32_t count;
    if (take(&r, 8, &magic) || memcmp(magic, "RVBPFNB2", 8) != 0 || take_u32(&r, &count)) {
        fprintf(stderr, "%s: not a batch file (magic RVBPFNB2)\n", argv[1]);
        return 2;
    }
    install_signal_handlers();
    /* Lines must reach the parent even if a later case kills the process. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    int all_ok = 1;
    for (uint32_t i = 0; i < count; i++) {
        struct image_case c;
        if (read_case(&r, &c)) {
            fprintf(stderr, "%s: case %u is truncated\n", argv[1], i);
            return 2;
        }
        uint64_t r0;
        const char *secret_line = NULL;
        if (run_case(&c, &r0, &secret_line) != 0) {
            all_ok = 0;
        } else {
            int ok = r0 == c.expected;
            all_ok &= ok;
            printf("result %.*s 0x%llx expected 0x%llx %s\n", (int)c.name_len,
                   (const char *)c.name, (unsigned long long)r0, (unsigned long long)c.expected,
                   ok ? "ok" : "MISMATCH");
        }
        if (secret_line)
            printf("secret %.*s %s\n", (int)c.name_len, (const char *)c.name, secret_line);
    }
    printf("done %u\n", count);
    free(data);
    return all_ok ? 0 : 1;
}
