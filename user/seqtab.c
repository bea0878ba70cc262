// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "seqtab.h"

struct seq_state {
	uint64_t ctx;
	int32_t seq;
	bool open;               /* a request is in progress */
	bool prompt_done;
	bool restart;            /* memory cleared: the next decode starts a request */
	int32_t last_pos;        /* highest position decoded in the request */
	uint64_t start_ns;       /* its first decode's start */
	uint64_t last_ns;        /* its last decode's end */
	uint64_t tok_ns;         /* end of its last decode that output logits */
};

static void sum_reset(struct seq_sum *s)
{
	s->started = s->finished = s->prompt_tokens = s->generated_tokens = 0;
	s->decodes = s->busy_seqs = s->partial = 0;
	s->max_seqs = 0;
	hist_reset(&s->prefill);
	hist_reset(&s->itl);
	hist_reset(&s->duration);
}

static void sum_merge(struct seq_sum *d, const struct seq_sum *s)
{
	d->started += s->started;
	d->finished += s->finished;
	d->prompt_tokens += s->prompt_tokens;
	d->generated_tokens += s->generated_tokens;
	d->decodes += s->decodes;
	d->busy_seqs += s->busy_seqs;
	d->partial += s->partial;
	if (s->max_seqs > d->max_seqs)
		d->max_seqs = s->max_seqs;
	hist_merge(&d->prefill, &s->prefill);
	hist_merge(&d->itl, &s->itl);
	hist_merge(&d->duration, &s->duration);
}

void seqtab_init(struct seqtab *t)
{
	memset(t, 0, sizeof(*t));
}

static void proc_free(struct seq_proc *p)
{
	free(p->st);
	free(p);
}

void seqtab_free(struct seqtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		proc_free(t->p[i]);
	free(t->p);
	memset(t, 0, sizeof(*t));
}

static struct seq_proc *proc_find(const struct seqtab *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i]->pid == pid)
			return t->p[i];
	return NULL;
}

static struct seq_proc *proc_get(struct seqtab *t, pid_t pid)
{
	struct seq_proc *p = proc_find(t, pid);

	if (p)
		return p;
	if (GROW(t->p, t->n, t->cap, 4))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	sum_reset(&p->win);
	sum_reset(&p->shown);
	sum_reset(&p->run);
	t->p[t->n++] = p;
	return p;
}

static struct seq_state *state_get(struct seq_proc *p, uint64_t ctx, int32_t seq)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->st[i].ctx == ctx && p->st[i].seq == seq)
			return &p->st[i];
	if (GROW(p->st, p->n, p->cap, 8))
		return NULL;
	memset(&p->st[p->n], 0, sizeof(p->st[0]));
	p->st[p->n].ctx = ctx;
	p->st[p->n].seq = seq;
	return &p->st[p->n++];
}

static void finish(struct seq_proc *p, struct seq_state *st)
{
	if (!st->open)
		return;
	st->open = false;
	p->win.finished++;
	hist_add(&p->win.duration, st->last_ns - st->start_ns);
}

static void on_slot(struct seq_proc *p, struct seq_state *st, const struct seq_event *e,
		    const struct seq_slot *s)
{
	bool implicit = e->flags & INFERLAT_SEQ_IMPLICIT_POS;
	int32_t pos_min = implicit ? (st->open ? st->last_pos + 1 : 0) : s->pos_min;
	int32_t pos_max = implicit ? pos_min + (int32_t)s->n_tokens - 1 : s->pos_max;

	if (st->open && (st->restart || pos_min <= st->last_pos))
		finish(p, st);
	if (!st->open) {
		st->open = true;
		st->restart = false;
		st->prompt_done = false;
		st->start_ns = e->start_ns;
		p->win.started++;
	}
	if (!st->prompt_done) {
		p->win.prompt_tokens += s->n_tokens;
		if (s->n_logits) {
			st->prompt_done = true;
			hist_add(&p->win.prefill, e->end_ns - st->start_ns);
			st->tok_ns = e->end_ns;
			p->win.generated_tokens += s->n_logits;
		}
	} else if (s->n_logits) {
		/* several tokens in one step (speculative decoding): their mean gap */
		uint64_t gap = (e->end_ns - st->tok_ns) / s->n_logits;

		for (uint32_t i = 0; i < s->n_logits; i++)
			hist_add(&p->win.itl, gap);
		st->tok_ns = e->end_ns;
		p->win.generated_tokens += s->n_logits;
	}
	st->last_pos = pos_max > st->last_pos || pos_min == 0 ? pos_max : st->last_pos;
	st->last_ns = e->end_ns;
}

static void on_decode(struct seq_proc *p, const struct seq_event *e)
{
	uint32_t n = e->nslots < INFERLAT_SEQ_SLOTS ? e->nslots : INFERLAT_SEQ_SLOTS;

	if (e->retval != 0)
		return;   /* nothing decoded (no room in the memory, aborted) */
	p->win.decodes++;
	p->win.busy_seqs += n;
	if (n > p->win.max_seqs)
		p->win.max_seqs = n;
	if (e->flags & (INFERLAT_SEQ_MORE_SEQS | INFERLAT_SEQ_MORE_TOKENS | INFERLAT_SEQ_FAULT))
		p->win.partial++;
	for (uint32_t i = 0; i < n; i++) {
		struct seq_state *st = state_get(p, e->ctx, e->slots[i].seq_id);

		if (st)
			on_slot(p, st, e, &e->slots[i]);
	}
}

/* llama_memory_seq_rm(mem, seq, p0, p1): seq < 0 is every sequence; p0 < 0
 * is 0, p1 < 0 the end. Removing a sequence's tail ends its request (what
 * follows is a new one, on a kept prefix or from 0); removing a range inside
 * it (a context shift) does not. */
static void on_rm(struct seq_proc *p, const struct seq_event *e)
{
	int32_t seq = e->slots[0].seq_id, p0 = e->slots[0].pos_min, p1 = e->slots[0].pos_max;

	if (e->nslots < 1 || (e->retval & 0xff) == 0)
		return;   /* returned false: nothing removed */
	if (p1 >= 0)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct seq_state *st = &p->st[i];

		if (seq >= 0 && st->seq != seq)
			continue;
		finish(p, st);
		st->restart = true;
		st->last_pos = p0 > 0 ? p0 - 1 : -1;
	}
}

int seqtab_event(struct seqtab *t, const struct seq_event *e)
{
	struct seq_proc *p = proc_get(t, (pid_t)e->pid);

	if (!p)
		return -ENOMEM;
	switch (e->kind) {
	case INFERLAT_SEQ_DECODE:
		on_decode(p, e);
		break;
	case INFERLAT_SEQ_RM:
		on_rm(p, e);
		break;
	case INFERLAT_SEQ_CLEAR:
		for (size_t i = 0; i < p->n; i++) {
			finish(p, &p->st[i]);
			p->st[i].restart = true;
			p->st[i].last_pos = -1;
		}
		break;
	}
	return 0;
}

void seqtab_window(struct seqtab *t, uint64_t now_ns, bool final)
{
	for (size_t i = 0; i < t->n; i++) {
		struct seq_proc *p = t->p[i];

		for (size_t k = 0; k < p->n; k++) {
			struct seq_state *st = &p->st[k];

			/* a decode read after now (the ring buffers are read once more
			 * at a window's end) is no idleness */
			if (st->open && (final || (now_ns > st->last_ns && now_ns - st->last_ns >= SEQS_IDLE_NS)))
				finish(p, st);
		}
		p->in_window = p->win.decodes || p->win.started || p->win.finished;
		sum_merge(&p->run, &p->win);
		p->shown = p->win;
		sum_reset(&p->win);
	}
}

void seqtab_end(struct seqtab *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < t->p[i]->n && (!pid || t->p[i]->pid == pid); k++)
			finish(t->p[i], &t->p[i]->st[k]);
}

const struct seq_sum *seqtab_sum(const struct seqtab *t, pid_t pid, bool final)
{
	const struct seq_proc *p = proc_find(t, pid);

	if (!p)
		return NULL;
	return final ? &p->run : &p->shown;
}

void seqtab_drop(struct seqtab *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->p[i]->pid != pid)
			continue;
		proc_free(t->p[i]);
		t->p[i] = t->p[--t->n];
		return;
	}
}
