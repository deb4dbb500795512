#include "CUnicorn.h"

uc_err cu_hook_code(uc_engine *uc, uc_hook *hook, int type, uc_cb_hookcode_t callback, void *user_data,
                    uint64_t begin, uint64_t end) {
    return uc_hook_add(uc, hook, type, (void *)callback, user_data, begin, end);
}

uc_err cu_hook_intr(uc_engine *uc, uc_hook *hook, uc_cb_hookintr_t callback, void *user_data) {
    return uc_hook_add(uc, hook, UC_HOOK_INTR, (void *)callback, user_data, 1, 0);
}

uc_err cu_hook_invalid(uc_engine *uc, uc_hook *hook, uc_cb_hookinsn_invalid_t callback, void *user_data) {
    return uc_hook_add(uc, hook, UC_HOOK_INSN_INVALID, (void *)callback, user_data, 1, 0);
}

uc_err cu_hook_mem_invalid(uc_engine *uc, uc_hook *hook, uc_cb_eventmem_t callback, void *user_data) {
    return uc_hook_add(uc, hook, UC_HOOK_MEM_INVALID, (void *)callback, user_data, 1, 0);
}

uc_err cu_hook_in(uc_engine *uc, uc_hook *hook, uc_cb_insn_in_t callback, void *user_data) {
    return uc_hook_add(uc, hook, UC_HOOK_INSN, (void *)callback, user_data, 1, 0, UC_X86_INS_IN);
}

uc_err cu_hook_out(uc_engine *uc, uc_hook *hook, uc_cb_insn_out_t callback, void *user_data) {
    return uc_hook_add(uc, hook, UC_HOOK_INSN, (void *)callback, user_data, 1, 0, UC_X86_INS_OUT);
}

uc_err cu_hook_insn(uc_engine *uc, uc_hook *hook, int instruction, void *callback, void *user_data) {
    return uc_hook_add(uc, hook, UC_HOOK_INSN, callback, user_data, 1, 0, instruction);
}

uc_err cu_set_cpu_model(uc_engine *uc, int model) { return uc_ctl_set_cpu_model(uc, model); }
uc_err cu_flush_tlb(uc_engine *uc) { return uc_ctl_flush_tlb(uc); }
uc_err cu_remove_cache(uc_engine *uc, uint64_t begin, uint64_t end) { return uc_ctl_remove_cache(uc, begin, end); }

uc_err cu_use_exits(uc_engine *uc) { return uc_ctl_exits_enable(uc); }

void *cu_context_bytes(uc_context *context) { return (void *)context; }

size_t cu_instruction_lengths(csh handle, const uint8_t *code, size_t size, uint64_t address,
                              uint8_t *lengths, size_t max) {
    cs_insn *insn = cs_malloc(handle);
    if (!insn) return 0;
    size_t count = 0;
    while (count < max && size > 0 && cs_disasm_iter(handle, &code, &size, &address, insn)) {
        lengths[count++] = (uint8_t)insn->size;
    }
    cs_free(insn, 1);
    return count;
}
