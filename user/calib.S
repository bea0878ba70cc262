/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Empty functions inferlat probes in itself to measure what a probe adds to
 * the durations it reports (user/calibrate.c): one per kind of probe site.
 */
	.text

	.p2align 4
	.globl inferlat_calib_emulated
	.type inferlat_calib_emulated, @function
inferlat_calib_emulated:
	push %rbp
	mov %rsp, %rbp
	xor %eax, %eax
	pop %rbp
	ret
	.size inferlat_calib_emulated, .-inferlat_calib_emulated

	.p2align 4
	.globl inferlat_calib_optimized
	.type inferlat_calib_optimized, @function
inferlat_calib_optimized:
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopl 0x0(%rax,%rax,1) */
	xor %eax, %eax
	ret
	.size inferlat_calib_optimized, .-inferlat_calib_optimized

	.p2align 4
	.globl inferlat_calib_singlestep
	.type inferlat_calib_singlestep, @function
inferlat_calib_singlestep:
	lea .Lcalib_anchor(%rip), %rax
.Lcalib_anchor:
	xor %eax, %eax
	ret
	.size inferlat_calib_singlestep, .-inferlat_calib_singlestep

	.section .note.GNU-stack, "", @progbits
