/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The request layer (--http), included by inferlat.bpf.c: the socket
 * syscalls of traced processes on connections accepted on traced TCP ports,
 * one sock_event per syscall with a bounded prefix of its data. The framing
 * of HTTP/1.1 is the loader's (user/httpframe.c); nothing here parses.
 *
 * tp_btf/sys_enter and sys_exit run for every syscall on the host. A process
 * that is not traced costs a test of the syscall number and, for the socket
 * syscalls (read and write among them) and close, the per-task test of its
 * group leader (maybe_traced()): no map lookup unless another BPF tool gave
 * that leader local storage. Syscall numbers are x86-64's.
 */
#ifndef INFERLAT_SOCK_BPF_H
#define INFERLAT_SOCK_BPF_H

#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_accept4 288

#define SOCK_AF_INET 2
#define SOCK_AF_INET6 10
#define SOCK_IPPROTO_TCP 6

const volatile bool http_any_port = true;   /* else only the ports in http_ports */

struct sock_counters sock_counters;
__u64 next_conn_id;

struct conn_key {
	__u32 tgid;
	__s32 fd;
};

struct conn_val {
	__u64 conn_id;
	__u16 port;
	__u16 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFERLAT_MAX_CONNS);
	__type(key, struct conn_key);
	__type(value, struct conn_val);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFERLAT_MAX_HTTP_PORTS);
	__type(key, __u16);
	__type(value, __u8);
} http_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, INFERLAT_SOCK_RINGBUF_BYTES);
} socks SEC(".maps");

/* Where a syscall's data is. */
enum sock_data {
	SOCK_DATA_NONE = 0,   /* sendfile: no user buffer */
	SOCK_DATA_BUF,        /* read, write, recvfrom, sendto: a buffer */
	SOCK_DATA_IOV,        /* readv, writev: an iovec array */
	SOCK_DATA_MSG,        /* recvmsg, sendmsg: a msghdr's iovec array */
};

/* A syscall of a followed connection, from the registers at its exit: the
 * user registers the kernel saved at entry are still there (rdi, rsi, rdx:
 * the first three arguments), so a syscall that was already blocked when
 * inferlat attached (a server thread waiting in recv) is seen as well. */
struct sock_call {
	__u64 addr;       /* the buffer, iovec array or msghdr */
	__u32 iovcnt;
	__s32 fd;
	__u8 op;          /* enum inferlat_sock_op */
	__u8 data;        /* enum sock_data */
};

/* An event is assembled here: the spill after data[] lets the verifier see
 * every bounded copy at a bounded offset stay inside the value. */
struct sock_scratch {
	struct sock_event e;
	__u8 spill[2 * INFERLAT_SOCK_CAPTURE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sock_scratch);
} sock_scratch SEC(".maps");

#define SOCK_HDR_BYTES (sizeof(struct sock_event) - INFERLAT_SOCK_CAPTURE)

static __always_inline void sock_send(struct sock_event *e)
{
	/* at most INFERLAT_SOCK_CAPTURE; the mask is what the verifier can see */
	__u64 n = e->captured & (2 * INFERLAT_SOCK_CAPTURE - 1);
	long avail;

	avail = bpf_ringbuf_query(&socks, BPF_RB_AVAIL_DATA);
	if (bpf_ringbuf_output(&socks, e, SOCK_HDR_BYTES + n,
			       avail >= INFERLAT_SOCK_RINGBUF_BYTES / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&sock_counters.rb_drops, 1);
}

/* What a syscall number is to the request layer: 0 for none. */
static __always_inline __u8 sock_op_of(long id, __u8 *data)
{
	*data = SOCK_DATA_NONE;
	switch (id) {
	case NR_accept:
	case NR_accept4:
		return INFERLAT_SOCK_ACCEPT;
	case NR_read:
	case NR_recvfrom:
		*data = SOCK_DATA_BUF;
		return INFERLAT_SOCK_READ;
	case NR_readv:
		*data = SOCK_DATA_IOV;
		return INFERLAT_SOCK_READ;
	case NR_recvmsg:
		*data = SOCK_DATA_MSG;
		return INFERLAT_SOCK_READ;
	case NR_write:
	case NR_sendto:
		*data = SOCK_DATA_BUF;
		return INFERLAT_SOCK_WRITE;
	case NR_writev:
		*data = SOCK_DATA_IOV;
		return INFERLAT_SOCK_WRITE;
	case NR_sendmsg:
		*data = SOCK_DATA_MSG;
		return INFERLAT_SOCK_WRITE;
	case NR_sendfile:
		/* sendfile(out_fd, in_fd, ...): the socket is out_fd, no buffer */
		return INFERLAT_SOCK_WRITE;
	}
	return 0;
}

/*
 * close: the connection is forgotten at entry, before the fd can be reused
 * (another thread's accept may get the same number before this close
 * returns), and its end is sent from there: what the server wrote before
 * is in the ring buffer ahead of it.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	struct sock_scratch *scr;
	struct conn_val *c;
	struct conn_key k;
	__u64 pid_tgid;
	__u32 zero = 0;

	if (id != NR_close || !maybe_traced(bpf_get_current_task_btf()))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	k.tgid = pid_tgid >> 32;
	if (!bpf_map_lookup_elem(&traced_tgids, &k.tgid))
		return 0;
	k.fd = (__s32)regs->di;
	c = bpf_map_lookup_elem(&conns, &k);
	scr = bpf_map_lookup_elem(&sock_scratch, &zero);
	if (!c || !scr)
		return 0;
	scr->e.ts_ns = bpf_ktime_get_ns();
	scr->e.conn_id = c->conn_id;
	scr->e.port = c->port;
	scr->e.ret = 0;
	scr->e.pid = k.tgid;
	scr->e.tid = (__u32)pid_tgid;
	scr->e.fd = k.fd;
	scr->e.op = INFERLAT_SOCK_CLOSE;
	scr->e.captured = 0;
	scr->e.pad = 0;
	bpf_map_delete_elem(&conns, &k);
	sock_send(&scr->e);
	return 0;
}

/* The local port of a TCP socket the process holds at fd, or 0. */
static __always_inline __u16 tcp_local_port(__s32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds, *f = NULL;
	struct socket *sock;
	struct sock *sk;
	unsigned int max;

	fds = BPF_CORE_READ(task, files, fdt, fd);
	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if (fd < 0 || (unsigned int)fd >= max)
		return 0;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	/* accept succeeded: the file is a socket */
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	switch (BPF_CORE_READ(sk, __sk_common.skc_family)) {
	case SOCK_AF_INET:
	case SOCK_AF_INET6:
		break;
	default:
		return 0;
	}
	if (BPF_CORE_READ(sk, sk_protocol) != SOCK_IPPROTO_TCP)
		return 0;
	return BPF_CORE_READ(sk, __sk_common.skc_num);
}

/* The first bytes of the data from an iovec array, at most max in all. */
static __always_inline __u32 copy_iovs(__u8 *dst, __u64 iov_addr, __u32 iovcnt, __u32 max)
{
	__u64 off = 0;

	for (int i = 0; i < INFERLAT_SOCK_IOVS; i++) {
		struct iovec iov;
		__u64 take;

		if ((__u32)i >= iovcnt || off >= max)
			break;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(iov_addr + i * sizeof(iov))))
			break;
		take = iov.iov_len < max - off ? iov.iov_len : max - off;
		/* off < max <= CAPTURE and take <= CAPTURE: the masks change
		 * nothing but let the verifier see the copy inside the scratch */
		off &= INFERLAT_SOCK_CAPTURE - 1;
		take &= 2 * INFERLAT_SOCK_CAPTURE - 1;
		if (bpf_probe_read_user(dst + off, take, iov.iov_base))
			break;
		off += take;
	}
	return (__u32)off;
}

static __always_inline __u32 capture(struct sock_event *e, const struct sock_call *sc, long ret)
{
	__u32 max = ret < INFERLAT_SOCK_CAPTURE ? (__u32)ret : INFERLAT_SOCK_CAPTURE;
	__u64 iov = sc->addr;
	__u32 iovcnt = sc->iovcnt;

	switch (sc->data) {
	case SOCK_DATA_BUF:
		if (max > INFERLAT_SOCK_CAPTURE)
			return 0;
		return bpf_probe_read_user(e->data, max, (void *)sc->addr) ? 0 : max;
	case SOCK_DATA_MSG: {
		struct user_msghdr m;

		if (bpf_probe_read_user(&m, sizeof(m), (void *)sc->addr))
			return 0;
		iov = (__u64)m.msg_iov;
		iovcnt = (__u32)m.msg_iovlen;
	}
		/* fallthrough */
	case SOCK_DATA_IOV:
		return copy_iovs(e->data, iov, iovcnt, max);
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct sock_scratch *scr;
	struct conn_val *c = NULL;
	struct sock_call sc;
	struct sock_event *e;
	struct conn_key k;
	__u64 pid_tgid;
	__u32 zero = 0;

	/* every syscall of the host comes here: direct loads, and the per-task
	 * test before any lookup */
	sc.op = sock_op_of(regs->orig_ax, &sc.data);
	if (!sc.op || !maybe_traced(bpf_get_current_task_btf()))
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	k.tgid = pid_tgid >> 32;
	if (!bpf_map_lookup_elem(&traced_tgids, &k.tgid))
		return 0;
	sc.fd = (__s32)regs->di;
	if (sc.op != INFERLAT_SOCK_ACCEPT) {
		k.fd = sc.fd;
		c = bpf_map_lookup_elem(&conns, &k);
		if (!c)
			return 0;
		/* EAGAIN on a non-blocking socket is the event loop's polling */
		if (ret == -11 /* EAGAIN */ || ret == -4 /* EINTR */)
			return 0;
	}
	scr = bpf_map_lookup_elem(&sock_scratch, &zero);
	if (!scr)
		return 0;
	e = &scr->e;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = k.tgid;
	e->tid = (__u32)pid_tgid;
	e->op = sc.op;
	e->ret = ret;
	e->captured = 0;
	e->pad = 0;
	e->fd = sc.fd;
	if (sc.op == INFERLAT_SOCK_ACCEPT) {
		struct conn_val v = {};
		__u16 port;

		if (ret < 0)
			return 0;
		k.fd = (__s32)ret;
		port = tcp_local_port((__s32)ret);
		if (!port || (!http_any_port && !bpf_map_lookup_elem(&http_ports, &port)))
			return 0;
		v.conn_id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
		v.port = port;
		if (bpf_map_update_elem(&conns, &k, &v, BPF_ANY)) {
			__sync_fetch_and_add(&sock_counters.conn_full, 1);
			return 0;
		}
		__sync_fetch_and_add(&sock_counters.conns, 1);
		e->fd = (__s32)ret;
		e->conn_id = v.conn_id;
		e->port = port;
		e->ret = 0;
	} else {
		e->conn_id = c->conn_id;
		e->port = c->port;
		if (ret > 0) {
			sc.addr = BPF_CORE_READ(regs, si);
			sc.iovcnt = (__u32)BPF_CORE_READ(regs, dx);
			e->captured = capture(e, &sc, ret);
		}
	}
	sock_send(e);
	return 0;
}

#endif
