// The C side of the simulator's guest CPU: Unicorn's and Capstone's headers, and fixed-argument wrappers for the
// variadic calls Swift cannot make (uc_hook_add, uc_ctl).
#ifndef CUNICORN_H
#define CUNICORN_H

// Unicorn lives in the repository's ignored .deps folder (fetched by tools/install-deps), found relative to this file
// so that no target needs an include flag.
#if !__has_include("../../../../.deps/unicorn/include/unicorn/unicorn.h")
#error "Unicorn 2.1.4 is missing: run tools/install-deps (it fetches the pinned wheel into .deps/unicorn)"
#endif
#if !__has_include(<capstone/capstone.h>)
#error "Capstone is missing: run tools/install-deps (it installs libcapstone-dev)"
#endif

#include <stdbool.h>
#include <stdint.h>
#include "../../../../.deps/unicorn/include/unicorn/unicorn.h"
#include <capstone/capstone.h>

uc_err cu_hook_code(uc_engine *uc, uc_hook *hook, int type, uc_cb_hookcode_t callback, void *user_data,
                    uint64_t begin, uint64_t end);
uc_err cu_hook_intr(uc_engine *uc, uc_hook *hook, uc_cb_hookintr_t callback, void *user_data);
uc_err cu_hook_invalid(uc_engine *uc, uc_hook *hook, uc_cb_hookinsn_invalid_t callback, void *user_data);
uc_err cu_hook_mem_invalid(uc_engine *uc, uc_hook *hook, uc_cb_eventmem_t callback, void *user_data);
uc_err cu_hook_in(uc_engine *uc, uc_hook *hook, uc_cb_insn_in_t callback, void *user_data);
uc_err cu_hook_out(uc_engine *uc, uc_hook *hook, uc_cb_insn_out_t callback, void *user_data);
uc_err cu_hook_insn(uc_engine *uc, uc_hook *hook, int instruction, void *callback, void *user_data);

uc_err cu_set_cpu_model(uc_engine *uc, int model);
uc_err cu_flush_tlb(uc_engine *uc);
uc_err cu_remove_cache(uc_engine *uc, uint64_t begin, uint64_t end);
/// Makes uc_emu_start ignore its `until` address (no guest address is a sentinel).
uc_err cu_use_exits(uc_engine *uc);

/// The bytes of a saved context (Unicorn's uc_context is opaque; its CPU state follows a header).
void *cu_context_bytes(uc_context *context);

/// Lengths of the instructions at the start of `code` (up to `max`), decoded by Capstone in `mode` (16/32/64).
/// Returns how many were decoded; an undecodable byte ends the list.
size_t cu_instruction_lengths(csh handle, const uint8_t *code, size_t size, uint64_t address,
                              uint8_t *lengths, size_t max);
#endif
