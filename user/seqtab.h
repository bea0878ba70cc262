/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Requests from llama.cpp's sequences: every llama_decode batch's summary
 * (struct seq_event) and the calls that clear a sequence's memory, followed
 * per process, context and sequence id. A sequence carries one request at a
 * time (llama-server's slot, node-llama-cpp's LlamaContextSequence):
 *
 *  - a request starts when its sequence's tokens restart at a position at or
 *    below the last one it decoded (position 0, or a kept prefix), or after
 *    its memory was cleared (llama_memory_seq_rm to the end, llama_memory_clear);
 *  - its prompt is every token up to and including the decode that outputs
 *    its first logits; prefill runs from that first decode's start to that
 *    decode's end, when the first token can be sampled;
 *  - each decode that outputs logits for it yields one generated token; the
 *    time between the ends of consecutive ones is its inter-token latency;
 *  - it ends when its sequence restarts or is cleared, or stays out of the
 *    batches for SEQS_IDLE_NS; its duration runs to its last decode's end.
 *
 * What happens outside llama_decode (sampling, detokenizing, the server's
 * own queue and network) is not seen: these figures start at the first
 * prompt token's decode, not at the HTTP request's arrival.
 */
#ifndef INFERLAT_SEQTAB_H
#define INFERLAT_SEQTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "hist.h"
#include "inferlat.h"

#define SEQS_IDLE_NS 1000000000ull   /* a sequence out of the batches this long has ended */

struct seq_sum {                 /* one process's requests in a window or the run */
	uint64_t started, finished;
	uint64_t prompt_tokens, generated_tokens;
	uint64_t decodes;            /* successful llama_decode calls */
	uint64_t busy_seqs;          /* sequences carried, summed over them */
	uint32_t max_seqs;           /* the most in one */
	uint64_t partial;            /* batches summarized in part (more sequences or tokens
	                                than the kernel's summary holds, unreadable arrays) */
	struct hist prefill, itl, duration;
};

struct seq_state;

struct seq_proc {
	pid_t pid;
	struct seq_state *st;
	size_t n, cap;
	struct seq_sum win;          /* the window being filled */
	struct seq_sum shown;        /* the last closed window */
	struct seq_sum run;
	bool in_window;              /* had sequence events in the last closed window */
};

struct seqtab {
	struct seq_proc **p;
	size_t n, cap;
};

void seqtab_init(struct seqtab *t);
void seqtab_free(struct seqtab *t);
/* One event from the kernel, in the order they happened. 0 or -ENOMEM. */
int seqtab_event(struct seqtab *t, const struct seq_event *e);
/* Close the window at now_ns (CLOCK_MONOTONIC): idle sequences end. With
 * final, every open request ends (the run is over). */
void seqtab_window(struct seqtab *t, uint64_t now_ns, bool final);
/* The run is over (pid 0), or process pid exited: its open requests end,
 * in the window being filled. */
void seqtab_end(struct seqtab *t, pid_t pid);
/* The last closed window's figures of pid (final: the run's), or NULL when
 * the process has sent no sequence events. */
const struct seq_sum *seqtab_sum(const struct seqtab *t, pid_t pid, bool final);
/* Forget an exited process (after its last report). */
void seqtab_drop(struct seqtab *t, pid_t pid);

#endif
