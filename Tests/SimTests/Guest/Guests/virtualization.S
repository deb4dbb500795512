// SVM and VMX instructions: each must exit, none may run.
    .intel_syntax noprefix
    .code64
    .globl start, at_vmmcall, at_vmcall, at_vmxon, at_vmrun, at_vmlaunch, done
start:
at_vmmcall:
    vmmcall
at_vmcall:
    vmcall
at_vmxon:
    vmxon [rip + region]
at_vmrun:
    vmrun
at_vmlaunch:
    vmlaunch
done:
    hlt
region:
    .quad 0
