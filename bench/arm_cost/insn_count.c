/* insn_count: a qemu-user TCG plugin that counts the guest's instructions by class.
 *
 * Each instruction is classified once, when its block is translated (aarch64 from its encoding,
 * 32-bit ARM from its disassembly, which knows ARM from Thumb; x86_64 coarsely from its
 * disassembly: VEX/EVEX vector instructions, FMA, integer dot products and branches, memory
 * operands not split out, to compare kernels on AVX2); every execution of the block
 * then adds its per-class totals inline, with no callback. A guest `syscall(4242, tag)` is a
 * marker: the plugin prints the counts since the previous marker. With profile=on it also
 * counts each block's executions and prints, at each marker, every block that ran since the
 * previous one (address, instructions, executions, symbol of the main binary).
 *
 *   qemu-aarch64 -plugin insn_count.so[,profile=on] -d plugin -D LOG PROGRAM
 *
 * Output lines (in LOG): "marker TAG class=count ...", "tb VADDR NINSNS EXECS SYMBOL",
 * "total class=count ..." at exit. Counters are shared by the guest's threads and not atomic:
 * measure single-threaded runs.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum {
  kInt,            /* integer and everything not below */
  kBranch,         /* branches, calls, returns */
  kLoad,           /* loads into general registers (and prefetches, atomics) */
  kStore,          /* stores of general registers */
  kVecLoad,        /* AdvSIMD/FP register loads (ldr q, ldp q, ld1; vld1, vldr, vldm) */
  kVecStore,       /* AdvSIMD/FP register stores */
  kSimdVector,     /* AdvSIMD on vectors (NEON on q or d registers with lanes) */
  kSimdScalar,     /* AdvSIMD scalar forms (aarch64) */
  kFpScalar,       /* scalar floating point (and FP <-> integer conversions, VFP) */
  kSve,            /* SVE data processing */
  kSveLoad,        /* SVE loads */
  kSveStore,       /* SVE stores */
  kPrimary,        /* the classes above partition the instructions */
  kFma = kPrimary, /* of kSimdVector: float multiply-accumulate (fmla/fmls, vfma/vmla .f32) */
  kDot,            /* of kSimdVector: sdot/udot */
  kClasses
};
static const char *const kNames[kClasses] = {"int",       "branch",      "load",        "store",     "vec_load",
                                             "vec_store", "simd_vector", "simd_scalar", "fp_scalar", "sve",
                                             "sve_load",  "sve_store",   "fma",         "dot"};

static uint64_t counts[kClasses];
static uint64_t last[kClasses];
static enum { kA64, kA32, kX86 } guest;
static bool profile;
static const uint64_t kMarker = 4242;

/* One translated block when profiling: its executions are counted inline. */
typedef struct {
  uint64_t vaddr;
  uint64_t execs;
  uint64_t last_execs;
  uint32_t n_insns;
  const char *symbol;
} Block;
static Block **blocks;
static size_t n_blocks, cap_blocks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int ClassifyA64(uint32_t i, int *extra) {
  *extra = -1;
  const uint32_t op0 = (i >> 25) & 0xf;
  if (op0 == 0x2) { /* SVE: bits 31:29 say memory (100-110 loads, 111 stores) or data */
    const uint32_t top = i >> 29;
    return top == 7 ? kSveStore : top >= 4 ? kSveLoad : kSve;
  }
  if ((op0 & 0xe) == 0xa) { /* branches, exception generation, system */
    if ((i >> 24) == 0xd4 || (i >> 22) == 0x354) return kInt;
    return kBranch;
  }
  if ((op0 & 0x5) == 0x4) { /* loads and stores: bit 26 is V (SIMD&FP registers) */
    const bool v = (i >> 26) & 1;
    const uint32_t group = (i >> 28) & 3;
    bool load;
    if (group == 0 || group == 2) { /* exclusives, AdvSIMD structures, pairs: L is bit 22 */
      load = (i >> 22) & 1;
    } else if (group == 1) { /* literal loads; RCpc unscaled (bit 24) by opc */
      load = ((i >> 24) & 1) == 0 || ((i >> 22) & 3) != 0;
    } else { /* single register: opc 00 stores; STR Q is V, size 00, opc 10 */
      const uint32_t opc = (i >> 22) & 3;
      load = opc != 0 && !(v && opc == 2);
    }
    return v ? (load ? kVecLoad : kVecStore) : (load ? kLoad : kStore);
  }
  if ((op0 & 0x7) == 0x7) { /* SIMD and floating point data processing */
    if (((i >> 28) & 1) == 0) {
      if ((i & 0xbf20fc00) == 0x0e20cc00 || (i & 0xbf80b400) == 0x0f801000) *extra = kFma;
      if ((i & 0x9fe0fc00) == 0x0e809400 || (i & 0x9fc0f400) == 0x0f80e000) *extra = kDot;
      return kSimdVector;
    }
    return ((i >> 30) & 1) ? kSimdScalar : kFpScalar;
  }
  return kInt;
}

static bool StartsWith(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Has an operand register of this kind: 'q', 'd' or 's' followed by a digit. */
static bool HasRegister(const char *ops, char kind) {
  for (const char *p = ops; *p; ++p) {
    if (*p == kind && p[1] >= '0' && p[1] <= '9' && (p == ops || p[-1] == ' ' || p[-1] == '{' || p[-1] == ',')) {
      return true;
    }
  }
  return false;
}

static int ClassifyA32(const char *text, int *extra) {
  *extra = -1;
  char mnemonic[32] = {0};
  size_t n = 0;
  while (text[n] && text[n] != ' ' && n + 1 < sizeof mnemonic) {
    mnemonic[n] = text[n];
    ++n;
  }
  const char *ops = text + n;
  if (mnemonic[0] == 'v') {
    if (StartsWith(mnemonic, "vld") || StartsWith(mnemonic, "vpop")) return kVecLoad;
    if (StartsWith(mnemonic, "vst") || StartsWith(mnemonic, "vpush")) return kVecStore;
    /* NEON works on q registers, or on d registers with lanes; VFP on s registers or .f64 */
    const bool vector =
        HasRegister(ops, 'q') || (HasRegister(ops, 'd') && !strstr(mnemonic, ".f64") && !HasRegister(ops, 's') &&
                                  !StartsWith(mnemonic, "vmov") && !StartsWith(mnemonic, "vcmp"));
    if (vector && (StartsWith(mnemonic, "vfma.f32") || StartsWith(mnemonic, "vfms.f32") ||
                   StartsWith(mnemonic, "vmla.f32") || StartsWith(mnemonic, "vmls.f32"))) {
      *extra = kFma;
    }
    if (vector && (StartsWith(mnemonic, "vsdot") || StartsWith(mnemonic, "vudot"))) *extra = kDot;
    if (StartsWith(mnemonic, "vmrs") || StartsWith(mnemonic, "vmsr")) return kFpScalar;
    return vector ? kSimdVector : kFpScalar;
  }
  static const char *const kBranches[] = {"b",   "bl",  "blx", "bx",  "cbz", "cbnz", "tbb", "tbh", "beq",
                                          "bne", "bcs", "bhs", "bcc", "blo", "bmi",  "bpl", "bvs", "bvc",
                                          "bhi", "bls", "bge", "blt", "bgt", "ble",  "bal"};
  char base[32];
  memcpy(base, mnemonic, sizeof base);
  char *dot = strchr(base, '.'); /* .w / .n width suffixes */
  if (dot) *dot = 0;
  for (size_t k = 0; k < sizeof kBranches / sizeof kBranches[0]; ++k) {
    if (strcmp(base, kBranches[k]) == 0) return kBranch;
  }
  const bool writes_pc = strstr(ops, "pc") != NULL;
  if (StartsWith(base, "pop") || StartsWith(base, "ldm")) return writes_pc ? kBranch : kLoad;
  if (StartsWith(base, "ldr") || StartsWith(base, "ldrex") || StartsWith(base, "lda") || StartsWith(base, "pld")) {
    return StartsWith(ops, " pc,") ? kBranch : kLoad;
  }
  if (StartsWith(base, "str") || StartsWith(base, "stm") || StartsWith(base, "push") || StartsWith(base, "stl")) {
    return kStore;
  }
  return kInt;
}

static int ClassifyX86(const char *text, int *extra) {
  *extra = -1;
  if (text[0] == 'v') {
    if (StartsWith(text, "vfmadd") || StartsWith(text, "vfnmadd") || StartsWith(text, "vfmsub") ||
        StartsWith(text, "vfnmsub")) {
      *extra = kFma;
    }
    if (StartsWith(text, "vpdpbusd") || StartsWith(text, "vpmaddubsw") || StartsWith(text, "vpmaddwd")) *extra = kDot;
    return kSimdVector;
  }
  if (text[0] == 'j' || StartsWith(text, "call") || StartsWith(text, "ret")) return kBranch;
  return kInt;
}

static void OnTranslate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  uint64_t n[kClasses] = {0};
  const size_t insns = qemu_plugin_tb_n_insns(tb);
  const char *symbol = NULL;
  for (size_t k = 0; k < insns; ++k) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
    int cls, extra;
    if (guest == kA64) {
      uint32_t word;
      memcpy(&word, qemu_plugin_insn_data(insn), sizeof word);
      cls = ClassifyA64(word, &extra);
    } else {
      char *text = qemu_plugin_insn_disas(insn);
      cls = guest == kA32 ? ClassifyA32(text ? text : "", &extra) : ClassifyX86(text ? text : "", &extra);
      free(text);
    }
    ++n[cls];
    if (extra >= 0) ++n[extra];
    if (k == 0) symbol = qemu_plugin_insn_symbol(insn);
  }
  for (int c = 0; c < kClasses; ++c) {
    if (n[c]) qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counts[c], n[c]);
  }
  if (!profile) return;
  Block *b = calloc(1, sizeof *b);
  if (!b) return;
  b->vaddr = qemu_plugin_tb_vaddr(tb);
  b->n_insns = (uint32_t)insns;
  b->symbol = symbol;
  pthread_mutex_lock(&lock);
  if (n_blocks == cap_blocks) {
    const size_t cap = cap_blocks ? 2 * cap_blocks : 4096;
    Block **grown = realloc(blocks, cap * sizeof *grown);
    if (!grown) {
      pthread_mutex_unlock(&lock);
      free(b);
      return;
    }
    blocks = grown;
    cap_blocks = cap;
  }
  blocks[n_blocks++] = b;
  pthread_mutex_unlock(&lock);
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->execs, 1);
}

static void PrintCounts(const char *head, const uint64_t *since) {
  char line[1024];
  int len = snprintf(line, sizeof line, "%s", head);
  uint64_t total = 0;
  for (int c = 0; c < kPrimary; ++c) total += counts[c] - (since ? since[c] : 0);
  len += snprintf(line + len, sizeof line - (size_t)len, " total=%" PRIu64, total);
  for (int c = 0; c < kClasses && len < (int)sizeof line; ++c) {
    len +=
        snprintf(line + len, sizeof line - (size_t)len, " %s=%" PRIu64, kNames[c], counts[c] - (since ? since[c] : 0));
  }
  if (len < (int)sizeof line - 1) {
    line[len++] = '\n';
    line[len] = 0;
  }
  qemu_plugin_outs(line);
}

static void PrintBlocks(void) {
  pthread_mutex_lock(&lock);
  char line[512];
  snprintf(line, sizeof line, "start_code %" PRIx64 " entry_code %" PRIx64 "\n", qemu_plugin_start_code(),
           qemu_plugin_entry_code());
  qemu_plugin_outs(line);
  for (size_t k = 0; k < n_blocks; ++k) {
    Block *b = blocks[k];
    const uint64_t execs = b->execs - b->last_execs;
    b->last_execs = b->execs;
    if (!execs) continue;
    snprintf(line, sizeof line, "tb %" PRIx64 " %u %" PRIu64 " %s\n", b->vaddr, b->n_insns, execs,
             b->symbol ? b->symbol : "-");
    qemu_plugin_outs(line);
  }
  pthread_mutex_unlock(&lock);
}

static void OnSyscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8) {
  (void)id, (void)vcpu, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6, (void)a7, (void)a8;
  if ((uint64_t)num != kMarker) return;
  char head[64];
  snprintf(head, sizeof head, "marker %" PRIu64, a1);
  PrintCounts(head, last);
  if (profile) PrintBlocks();
  memcpy(last, counts, sizeof last);
}

static void OnExit(qemu_plugin_id_t id, void *data) {
  (void)id, (void)data;
  PrintCounts("total", NULL);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  if (strcmp(info->target_name, "aarch64") == 0) {
    guest = kA64;
  } else if (strcmp(info->target_name, "arm") == 0) {
    guest = kA32;
  } else if (strcmp(info->target_name, "x86_64") == 0) {
    guest = kX86;
  } else {
    fprintf(stderr, "insn_count: aarch64, arm and x86_64 guests only, not %s\n", info->target_name);
    return 1;
  }
  for (int k = 0; k < argc; ++k) {
    const char *eq = strchr(argv[k], '=');
    if (eq && strncmp(argv[k], "profile", (size_t)(eq - argv[k])) == 0 &&
        qemu_plugin_bool_parse("profile", eq + 1, &profile)) {
      continue;
    }
    fprintf(stderr, "insn_count: unknown argument %s (profile=on|off)\n", argv[k]);
    return 1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, OnTranslate);
  qemu_plugin_register_vcpu_syscall_cb(id, OnSyscall);
  qemu_plugin_register_atexit_cb(id, OnExit, NULL);
  return 0;
}
