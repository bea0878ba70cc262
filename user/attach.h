/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF skeleton's life: open, configure, load, attach, detach. */
#ifndef INFERLAT_ATTACH_H
#define INFERLAT_ATTACH_H

#include <linux/types.h>
#include "probes.h"

struct inferlat_bpf;
struct bpf_link;

struct session {
	struct inferlat_bpf *skel;
	struct bpf_link **links;
	size_t nlinks, cap;
	int events_fd;       /* ring buffer */
	int stats_fd, hists_fd;
	double attach_s;     /* wall time spent attaching */
	bool multi;          /* uprobe_multi links (else one perf uprobe per site) */
};

struct calibration;

struct attach_opts {
	bool follow_forks;   /* COMMAND: descendants of traced processes are traced */
	unsigned ringbuf_bytes;
	struct calibration *calib;   /* measure and subtract probe overhead; NULL: raw */
};

/* Load the BPF programs sized for the probes, fill the target maps and attach
 * every probe. Explains failures; 0 or -errno. */
int session_start(struct session *s, struct probe_set *ps, const struct targets *t,
		  const struct attach_opts *o);
/* Attach entry and return programs at n file offsets of path, for one
 * process (pid > 0) or all (-1); cookies are the probe ids. 0 or -errno. */
int session_attach_sites(struct session *s, const char *path, pid_t pid, unsigned long *offs,
			 __u64 *cookies, size_t n);
/* Remove every probe; the maps stay readable until session_stop(). */
void session_detach(struct session *s);
/* Detach everything and free the BPF objects (safe on a partial start). */
void session_stop(struct session *s);

#endif
