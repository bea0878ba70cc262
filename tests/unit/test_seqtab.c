// SPDX-License-Identifier: GPL-2.0
/* Requests from llama.cpp's sequences: batches shared by sequences, prompts
 * split over batches, restarts, memory cuts, idle ends, implicit positions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "seqtab.h"

#define MS 1000000ull

struct slot_spec {
	int32_t seq, n, pos0;
	uint32_t logits;
};

static struct seq_event decode(uint64_t start_ms, uint64_t end_ms, size_t n, const struct slot_spec *s)
{
	struct seq_event e;

	memset(&e, 0, sizeof(e));
	e.kind = INFERLAT_SEQ_DECODE;
	e.pid = 7;
	e.ctx = 0x1000;
	e.start_ns = start_ms * MS;
	e.end_ns = end_ms * MS;
	e.nslots = (uint16_t)n;
	for (size_t i = 0; i < n; i++) {
		e.slots[i].seq_id = s[i].seq;
		e.slots[i].n_tokens = (uint32_t)s[i].n;
		e.slots[i].pos_min = s[i].pos0;
		e.slots[i].pos_max = s[i].pos0 + s[i].n - 1;
		e.slots[i].n_logits = s[i].logits;
		e.n_tokens += s[i].n;
	}
	return e;
}

static void feed(struct seqtab *t, struct seq_event e)
{
	assert_int_equal(seqtab_event(t, &e), 0);
}

/* Two requests on sequences 0 and 1 sharing batches, like node-llama-cpp's
 * or llama-server's: request A's prompt in two batches, B's prompt arriving
 * in a batch that carries A's generation. */
static void test_two_sequences_shared_batches(void **state)
{
	struct seqtab t;
	const struct seq_sum *w;

	seqtab_init(&t);
	feed(&t, decode(0, 10, 1, (struct slot_spec[]){ { 0, 8, 0, 0 } }));
	feed(&t, decode(10, 20, 1, (struct slot_spec[]){ { 0, 4, 8, 1 } }));   /* prompt ends: 12 */
	feed(&t, decode(22, 30, 2, (struct slot_spec[]){ { 0, 1, 12, 1 }, { 1, 5, 0, 1 } }));
	feed(&t, decode(31, 35, 2, (struct slot_spec[]){ { 0, 1, 13, 1 }, { 1, 1, 5, 1 } }));
	feed(&t, decode(36, 40, 1, (struct slot_spec[]){ { 1, 1, 6, 1 } }));
	seqtab_window(&t, 41 * MS, false);
	w = seqtab_sum(&t, 7, false);
	assert_non_null(w);
	assert_int_equal(w->started, 2);
	assert_int_equal(w->finished, 0);
	assert_int_equal(w->prompt_tokens, 12 + 5);
	/* A: 3 logits decodes; B: 3 */
	assert_int_equal(w->generated_tokens, 6);
	assert_int_equal(w->decodes, 5);
	assert_int_equal(w->busy_seqs, 7);
	assert_int_equal(w->max_seqs, 2);
	/* prefill: A 0..20 ms, B 22..30 ms */
	assert_int_equal(w->prefill.count, 2);
	assert_int_equal(w->prefill.min_ns, 8 * MS);
	assert_int_equal(w->prefill.max_ns, 20 * MS);
	/* gaps: A 20->30, 30->35; B 30->35, 35->40 */
	assert_int_equal(w->itl.count, 4);
	assert_int_equal(w->itl.sum_ns, (10 + 5 + 5 + 5) * MS);
	/* sequence 0 restarts at position 0: A ends at its last decode (35 ms) */
	feed(&t, decode(50, 60, 1, (struct slot_spec[]){ { 0, 3, 0, 1 } }));
	/* llama_memory_seq_rm(seq 1, -1, -1): B ends */
	{
		struct seq_event rm;

		memset(&rm, 0, sizeof(rm));
		rm.kind = INFERLAT_SEQ_RM;
		rm.pid = 7;
		rm.retval = 1;
		rm.nslots = 1;
		rm.slots[0] = (struct seq_slot){ .seq_id = 1, .pos_min = -1, .pos_max = -1 };
		feed(&t, rm);
	}
	seqtab_window(&t, 61 * MS, false);
	w = seqtab_sum(&t, 7, false);
	assert_int_equal(w->started, 1);
	assert_int_equal(w->finished, 2);
	assert_int_equal(w->duration.count, 2);
	assert_int_equal(w->duration.sum_ns, (35 + (40 - 22)) * MS);
	/* the third request goes idle for a second: it ends */
	seqtab_window(&t, 60 * MS + SEQS_IDLE_NS, false);
	w = seqtab_sum(&t, 7, false);
	assert_int_equal(w->finished, 1);
	assert_int_equal(w->duration.sum_ns, 10 * MS);
	w = seqtab_sum(&t, 7, true);
	assert_int_equal(w->started, 3);
	assert_int_equal(w->finished, 3);
	assert_int_equal(w->prompt_tokens, 20);
	seqtab_free(&t);
}

/* llama_batch_get_one: no positions, one sequence; llama_memory_clear
 * separates the requests. A failed decode processed nothing. */
static void test_implicit_positions_and_clear(void **state)
{
	struct seqtab t;
	struct seq_event e, clear;
	const struct seq_sum *w;

	seqtab_init(&t);
	memset(&clear, 0, sizeof(clear));
	clear.kind = INFERLAT_SEQ_CLEAR;
	clear.pid = 7;
	for (int r = 0; r < 2; r++) {
		uint64_t t0 = (uint64_t)r * 100;

		feed(&t, clear);
		e = decode(t0, t0 + 5, 1, (struct slot_spec[]){ { 0, 6, -1, 1 } });
		e.flags = INFERLAT_SEQ_IMPLICIT_POS | INFERLAT_SEQ_IMPLICIT_SEQ;
		feed(&t, e);
		for (int g = 1; g <= 3; g++) {
			e = decode(t0 + 5 * (uint64_t)g, t0 + 5 * (uint64_t)g + 2, 1,
				   (struct slot_spec[]){ { 0, 1, -1, 1 } });
			e.flags = INFERLAT_SEQ_IMPLICIT_POS | INFERLAT_SEQ_IMPLICIT_SEQ;
			feed(&t, e);
		}
		e.retval = 1;   /* failed: not a token */
		feed(&t, e);
	}
	seqtab_end(&t, 7);
	seqtab_window(&t, 300 * MS, false);
	w = seqtab_sum(&t, 7, false);
	assert_int_equal(w->started, 2);
	assert_int_equal(w->finished, 2);
	assert_int_equal(w->prompt_tokens, 12);
	assert_int_equal(w->generated_tokens, 8);
	assert_int_equal(w->decodes, 8);
	assert_int_equal(w->itl.count, 6);
	assert_int_equal(w->itl.sum_ns, 2 * (2 + 5 + 5) * MS);
	assert_int_equal(w->prefill.sum_ns, 10 * MS);
	assert_null(seqtab_sum(&t, 8, false));
	seqtab_free(&t);
}

/* A context shift removes a range inside a sequence: the request goes on. */
static void test_context_shift_is_not_a_new_request(void **state)
{
	struct seqtab t;
	struct seq_event rm;
	const struct seq_sum *w;

	seqtab_init(&t);
	feed(&t, decode(0, 10, 1, (struct slot_spec[]){ { 3, 10, 0, 1 } }));
	memset(&rm, 0, sizeof(rm));
	rm.kind = INFERLAT_SEQ_RM;
	rm.pid = 7;
	rm.retval = 1;
	rm.nslots = 1;
	rm.slots[0] = (struct seq_slot){ .seq_id = 3, .pos_min = 2, .pos_max = 6 };
	feed(&t, rm);
	feed(&t, decode(11, 12, 1, (struct slot_spec[]){ { 3, 1, 10, 1 } }));
	seqtab_window(&t, 13 * MS, false);
	w = seqtab_sum(&t, 7, false);
	assert_int_equal(w->started, 1);
	assert_int_equal(w->finished, 0);
	assert_int_equal(w->itl.count, 1);
	seqtab_free(&t);
}

/* The ring buffers are read once more as a window ends: a decode that ended
 * after the window's end time is no sign of idleness, and its request goes
 * on in the next window. */
static void test_decode_after_window_end_is_not_idle(void **state)
{
	struct seqtab t;
	const struct seq_sum *w;

	seqtab_init(&t);
	feed(&t, decode(0, 10, 1, (struct slot_spec[]){ { 0, 8, 0, 1 } }));
	feed(&t, decode(11, 101, 1, (struct slot_spec[]){ { 0, 1, 8, 1 } }));
	seqtab_window(&t, 100 * MS, false);
	w = seqtab_sum(&t, 7, false);
	assert_int_equal(w->started, 1);
	assert_int_equal(w->finished, 0);
	feed(&t, decode(102, 110, 1, (struct slot_spec[]){ { 0, 1, 9, 1 } }));
	seqtab_window(&t, 120 * MS, false);
	w = seqtab_sum(&t, 7, false);
	assert_int_equal(w->started, 0);
	assert_int_equal(w->prompt_tokens, 0);
	assert_int_equal(w->generated_tokens, 1);
	seqtab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_sequences_shared_batches),
		cmocka_unit_test(test_decode_after_window_end_is_not_idle),
		cmocka_unit_test(test_implicit_positions_and_clear),
		cmocka_unit_test(test_context_shift_is_not_a_new_request),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("seqtab", tests, NULL, NULL);
}
