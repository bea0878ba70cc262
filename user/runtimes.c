// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exitcode.h"
#include "log.h"
#include "ortapi.h"
#include "procfs.h"
#include "runtimes.h"

/* x86-64 SysV argument registers, by position */
#define REG(n, sz) { .kind = INFERLAT_ARG_REG, .reg = (n), .size = (sz) }
#define REG_OUT(n, sz) { .kind = INFERLAT_ARG_REG_OUT, .reg = (n), .size = (sz) }
#define STACK(o, sz) { .kind = INFERLAT_ARG_STACK, .off = (o), .size = (sz) }

struct preset_probe {
	const char *spec;        /* LIB:SYMBOL (for an OrtApi slot: LIB:OrtApi::NAME) */
	int ort_slot;            /* ORTAPI_*: the function is this slot of ONNX Runtime's API
	                            table; 0: a symbol (slot 0, CreateStatus, is never probed) */
	const char *label;       /* the name shown for an OrtApi slot */
	const char *err;         /* error predicate, or NULL */
	const char *measures;    /* what its calls mean */
	const char *args_doc;    /* what its decoded arguments are, or NULL */
	struct probe_decode decode;
	unsigned optin;          /* 0: probed by default; else the enum runtimes_optin bit
	                            (--breakdown, --ops) that adds it: a call nested inside
	                            the main one, whose probe pair adds to every main call */
	const char *share_of;    /* its time is shown as a share of this probe's (a symbol) */
};

struct preset {
	const char *name;
	const char *libs;        /* basename globs of its libraries (for -r auto), ':'-separated */
	const char *about;
	const char *serves;      /* the serving modes its probes see, and those they do not */
	const char *silent;      /* when its main probe (the first) sees no call while the
	                            process is busy: what is likely and what to use instead */
	const struct preset_probe *probes;
	size_t n;
	const char *nested_in;   /* what its opt-in probes' calls run inside, or NULL */
};

static const struct preset_probe llama_probes[] = {
	{ "libllama.so:llama_decode", 0, NULL, "ret!=0",
	  "one batch through the model (prompt processing or one generation step); the "
	  "main probe: calls are batches",
	  "the llama_batch, passed by value on the stack ([rsp+8]): n_tokens (int32), and per token "
	  "pos, n_seq_id/seq_id and logits, read in the kernel into a per-sequence summary: "
	  "tokens, tokens/s, and requests from the sequences (a sequence restarting at position 0 "
	  "is a new request; prompt and generated tokens, prefill time, inter-token latency, batch "
	  "occupancy). Batches made by llama_batch_get_one are one sequence, positions continuing",
	  { MEASURE_TOKENS, 1, { STACK(8, 4) } }, 0, NULL },
	{ "libllama.so:llama_tokenize", 0, NULL, NULL, "text to tokens. No error predicate: a negative "
	  "return is the size a too-small buffer needed, and callers (node-llama-cpp, llama-server's "
	  "common_tokenize) ask for the size that way first", NULL, { 0 }, 0, NULL },
	{ "libllama.so:llama_memory_seq_rm", 0, NULL, NULL,
	  "a sequence's memory cut (a request ends: its sequence is freed or restarts on a kept prefix)",
	  "seq_id (esi), p0 (edx), p1 (ecx): the request layer's sequence boundaries",
	  { MEASURE_SEQ_RM, 3, { REG(1, 4), REG(2, 4), REG(3, 4) } }, 0, NULL },
	{ "libllama.so:llama_memory_clear", 0, NULL, NULL,
	  "every sequence's memory cleared (each request ends)", NULL,
	  { MEASURE_SEQ_CLEAR, 0, { { 0 } } }, 0, NULL },
	{ "libllama.so:llama_model_load_from_file", 0, NULL, "ret64==0", "model load", NULL, { 0 }, 0, NULL },
	{ "libggml-base.so:ggml_backend_sched_graph_compute_async", 0, NULL, "ret!=0",
	  "graph compute in ggml (scheduler, all backends): how much of each decode is spent "
	  "computing", NULL, { 0 }, RUNTIMES_BREAKDOWN, "llama_decode" },
	{ "libggml-cpu*.so:ggml_graph_compute", 0, NULL, "ret!=0",
	  "graph compute on the CPU backend (the variant the runtime loaded)", NULL, { 0 },
	  RUNTIMES_BREAKDOWN, "llama_decode" },
};

static const struct preset_probe ort_probes[] = {
	{ "libonnxruntime.so:OrtApi::Run", ORTAPI_RUN, "OrtApi::Run", "ret64!=0",
	  "one inference (session.run in every binding); the main probe. The library is "
	  "stripped: found through OrtGetApiBase()->GetApi(1), read by loading each matching "
	  "library in a throw-away helper running as nobody", NULL, { 0 }, 0, NULL },
	{ "libonnxruntime.so:OrtApi::CreateSession", ORTAPI_CREATE_SESSION, "OrtApi::CreateSession", "ret64!=0",
	  "model load: session creation from a file", NULL, { 0 }, 0, NULL },
	{ "libonnxruntime.so:OrtApi::CreateSessionFromArray", ORTAPI_CREATE_SESSION_FROM_ARRAY,
	  "OrtApi::CreateSessionFromArray", "ret64!=0",
	  "model load: session creation from memory", NULL, { 0 }, 0, NULL },
};

static const struct preset_probe torch_probes[] = {
	{ "libtorch_cpu.so:torch::jit::GraphExecutor::run", 0, NULL, NULL,
	  "one TorchScript forward (graph executor run); the main probe", NULL, { 0 }, 0, NULL },
	{ "libtorch_cpu.so:torch::jit::Method::operator()", 0, NULL, NULL,
	  "a TorchScript method called from C++ (module.forward(inputs))", NULL, { 0 }, 0, NULL },
	{ "libtorch_cpu.so:at::_ops::*::call", 0, NULL, NULL,
	  "every ATen operator's dispatch entry (addmm, relu, ...): the top operators "
	  "by total time", NULL, { 0 }, RUNTIMES_OPS, NULL },
};

static const struct preset_probe cuda_probes[] = {
	{ "libcudart.so:cudaLaunchKernel", 0, NULL, "ret!=0", "kernel launch (enqueue, not the "
	  "kernel's run time)", NULL, { 0 }, 0, NULL },
	{ "libcudart.so:cudaMalloc", 0, NULL, "ret!=0", "device allocation",
	  "size (rsi) and the pointer written to *devPtr (rdi, read at return): live GPU bytes "
	  "per process", { MEASURE_ALLOC, 2, { REG(1, 8), REG_OUT(0, 8) } }, 0, NULL },
	{ "libcudart.so:cudaFree", 0, NULL, "ret!=0", "device free",
	  "devPtr (rdi): the allocation it ends", { MEASURE_FREE, 1, { REG(0, 8) } }, 0, NULL },
	{ "libcudart.so:cudaMemcpy", 0, NULL, "ret!=0", "synchronous copy (time includes the wait)",
	  "count (rdx): bytes", { MEASURE_BYTES, 1, { REG(2, 8) } }, 0, NULL },
	{ "libcudart.so:cudaMemcpyAsync", 0, NULL, "ret!=0", "asynchronous copy (enqueue)",
	  "count (rdx): bytes", { MEASURE_BYTES, 1, { REG(2, 8) } }, 0, NULL },
	{ "libcudart.so:cudaStreamSynchronize", 0, NULL, "ret!=0", "time blocked on a stream", NULL, { 0 }, 0, NULL },
	{ "libcudart.so:cudaDeviceSynchronize", 0, NULL, "ret!=0", "time blocked on the device", NULL, { 0 }, 0, NULL },
	{ "libcuda.so:cuLaunchKernel", 0, NULL, "ret!=0", "kernel launch (driver API)", NULL, { 0 }, 0, NULL },
	{ "libcuda.so:cuMemAlloc_v2", 0, NULL, "ret!=0", "device allocation (driver API)",
	  "bytesize (rsi) and *dptr (rdi, read at return)",
	  { MEASURE_ALLOC, 2, { REG(1, 8), REG_OUT(0, 8) } }, 0, NULL },
	{ "libcuda.so:cuMemFree_v2", 0, NULL, "ret!=0", "device free (driver API)", "dptr (rdi)",
	  { MEASURE_FREE, 1, { REG(0, 8) } }, 0, NULL },
	{ "libcuda.so:cuMemcpyHtoD_v2", 0, NULL, "ret!=0", "host to device copy (driver API)",
	  "ByteCount (rdx)", { MEASURE_BYTES, 1, { REG(2, 8) } }, 0, NULL },
	{ "libcuda.so:cuMemcpyDtoH_v2", 0, NULL, "ret!=0", "device to host copy (driver API)",
	  "ByteCount (rdx)", { MEASURE_BYTES, 1, { REG(2, 8) } }, 0, NULL },
	{ "libcuda.so:cuCtxSynchronize", 0, NULL, "ret!=0", "time blocked on the context (driver API)",
	  NULL, { 0 }, 0, NULL },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct preset presets[] = {
	{ "llama.cpp", "libllama*.so*", "llama.cpp (libllama, libggml): llama-server, node-llama-cpp, "
	  "llama-cpp-python, ollama's runner",
	  "every server that generates through llama_decode (parallel sequences included: checked "
	  "against node-llama-cpp's clients); requests are timed from the decode of their first "
	  "prompt token, so time queued before it (HTTP, tokenizing, waiting for a free sequence) "
	  "is not in them. A libllama linked statically into the server has no libllama.so: give "
	  "the executable's path in -e",
	  "it may be busy without generating (loading the model, tokenizing, embeddings through "
	  "llama_encode) or generate through another copy of llama.cpp linked into its executable "
	  "(-e /path/to/server:llama_decode)",
	  llama_probes, N(llama_probes), "llama_decode" },
	{ "onnxruntime", "libonnxruntime.so*", "ONNX Runtime (libonnxruntime.so, stripped): "
	  "onnxruntime-node, onnxruntime Python, the C/C++ API",
	  "every binding's session run (Node, Python, C, C++); IOBinding runs "
	  "(RunWithBinding) and asynchronous RunAsync are not probed",
	  "the runtime may run through IOBinding or RunAsync, which -r onnxruntime does not probe",
	  ort_probes, N(ort_probes), NULL },
	{ "libtorch", "libtorch_cpu.so*", "libtorch / PyTorch (libtorch_cpu.so): TorchScript "
	  "forwards, ATen operators with --ops",
	  "TorchScript modules (torch.jit.script or trace, and C++ torch::jit::load): one call per "
	  "forward. Eager PyTorch (model(x) on an nn.Module) runs no graph executor: its forwards "
	  "are invisible to the two main probes, and --ops times its ATen operators instead",
	  "eager PyTorch (model(x) without TorchScript) runs no graph executor; --ops times its "
	  "ATen operators",
	  torch_probes, N(torch_probes), "a forward (GraphExecutor::run in TorchScript, model(x) in eager "
	  "PyTorch)" },
	{ "cuda", "libcudart.so*:libcuda.so*", "CUDA runtime and driver API (libcudart, libcuda): "
	  "launches, allocations, copies, synchronization. Verified against a test double only "
	  "(no GPU on the test machines)",
	  "programs that call the CUDA runtime or driver API; the kernels' own run time is not "
	  "measured (launches are asynchronous)", NULL,
	  cuda_probes, N(cuda_probes), NULL },
};

static const struct preset *find_preset(const char *name)
{
	for (size_t i = 0; i < N(presets); i++)
		if (!strcmp(presets[i].name, name))
			return &presets[i];
	return NULL;
}

bool runtimes_known(const char *name)
{
	return !strcmp(name, "auto") || find_preset(name);
}

static bool preset_offers(const struct preset *p, unsigned optin)
{
	for (size_t j = 0; j < p->n; j++)
		if (p->probes[j].optin & optin)
			return true;
	return false;
}

bool runtimes_offers(const char *name, unsigned optin)
{
	const struct preset *p = find_preset(name);

	return !strcmp(name, "auto") || (p && preset_offers(p, optin));
}

void runtimes_offering(unsigned optin, char *buf, size_t sz)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N(presets) && len < sz; i++)
		if (preset_offers(&presets[i], optin))
			len += snprintf(buf + len, sz - len, "%s-r %s", len ? ", " : "", presets[i].name);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool lib_is_of(const struct preset *p, const char *path)
{
	char globs[128], *save = NULL;

	snprintf(globs, sizeof(globs), "%s", p->libs);
	for (char *g = strtok_r(globs, ":", &save); g; g = strtok_r(NULL, ":", &save))
		if (!fnmatch(g, base_name(path), 0))
			return true;
	return false;
}

/* The first mapping of pid whose file belongs to preset p, as a path
 * inferlat can open (the target's root); 0, -ENOENT or -ESRCH. */
static int mapped_lib(pid_t pid, const struct preset *p, char *buf, size_t sz)
{
	struct maps m = { 0 };
	int err = procfs_read_maps(pid, &m);

	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < m.n && err; i++) {
		if (!m.v[i].path || m.v[i].deleted || !lib_is_of(p, m.v[i].path))
			continue;
		procfs_root_path(pid, m.v[i].path, buf, sz);
		err = 0;
	}
	procfs_free_maps(&m);
	return err;
}

static int add_spec(struct probe_spec **specs, size_t *nspecs, const char *text,
		    const struct preset *p, const struct preset_probe *pp)
{
	struct probe_spec *nv = realloc(*specs, (*nspecs + 1) * sizeof(*nv));
	struct probe_spec *s;
	char err[512];
	int kind = INFERLAT_ERR_NONE, bits = 32;

	if (!nv)
		return -ENOMEM;
	*specs = nv;
	s = &nv[*nspecs];
	if (probespec_parse(text, s, err, sizeof(err))) {
		log_err("-r %s: %s", p->name, err);
		return -EINVAL;
	}
	if (pp->err && probespec_parse_err(pp->err, &kind, &bits, err, sizeof(err))) {
		log_err("-r %s: %s", p->name, err);
		probespec_free(s);
		return -EINVAL;
	}
	s->err_kind = kind;
	s->ret_bits = bits;
	s->runtime = p->name;
	s->label = pp->label;
	s->decode = pp->decode;
	s->share_of = pp->share_of;
	s->op = pp->optin == RUNTIMES_OPS;
	s->silent_hint = pp == p->probes ? p->silent : NULL;
	/* a runtime's main call runs on its thread pool (ggml's n_threads, ONNX
	 * Runtime's intra-op pool, libtorch's intra-op threads) */
	s->pool = pp == p->probes && p->silent;
	s->ort_table = pp->ort_slot != 0;
	s->ort_slot = pp->ort_slot;
	(*nspecs)++;
	return 0;
}

static int expand_one(const struct preset *p, unsigned optins, const struct targets *t,
		      struct probe_spec **specs, size_t *nspecs)
{
	int err;

	for (size_t j = 0; j < p->n; j++) {
		if (p->probes[j].optin && !(p->probes[j].optin & optins))
			continue;
		if ((err = add_spec(specs, nspecs, p->probes[j].spec, p, &p->probes[j])))
			return err;
	}
	return 0;
}

int runtimes_expand(char *const *names, size_t n, unsigned optins, const struct targets *t,
		    struct probe_spec **specs, size_t *nspecs)
{
	bool want[N(presets)] = { false };
	int err;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], "auto")) {
			want[find_preset(names[i]) - presets] = true;
			continue;
		}
		if (!t->npids || t->nexes || t->ncomms || t->child) {
			log_err("-r auto picks presets from the libraries running processes map: give -p PID "
				"(with -x, --comm or a COMMAND, name the runtime: -r llama.cpp)");
			return -EINVAL;
		}
		for (size_t k = 0; k < N(presets); k++) {
			char path[4096];
			bool found = false;

			for (size_t j = 0; j < t->npids && !found; j++)
				found = !mapped_lib(t->pids[j], &presets[k], path, sizeof(path));
			if (found) {
				log_note("-r auto: %s (a target maps %s)", presets[k].name, base_name(path));
				want[k] = true;
			}
		}
		bool any = false;

		for (size_t k = 0; k < N(presets); k++)
			any |= want[k];
		if (!any) {
			log_err("-r auto: no target maps a runtime's library (libllama, libonnxruntime, "
				"libtorch_cpu, libcudart, libcuda); inferlat runtimes lists the presets");
			return -ENOENT;
		}
	}
	for (size_t k = 0; k < N(presets); k++)
		if (want[k] && (err = expand_one(&presets[k], optins, t, specs, nspecs)))
			return err;
	return 0;
}

static void print_arg(const struct inferlat_arg *a)
{
	static const char *const regs[] = { "rdi", "rsi", "rdx", "rcx", "r8", "r9" };
	const char *r = a->reg < 6 ? regs[a->reg] : "?";

	switch (a->kind) {
	case INFERLAT_ARG_REG:
		printf(" %s/%u", r, a->size * 8);
		break;
	case INFERLAT_ARG_REG_OUT:
		printf(" *%s/%u at return", r, a->size * 8);
		break;
	case INFERLAT_ARG_STACK:
		printf(" [rsp+%u]/%u", a->off, a->size * 8);
		break;
	}
}

/* A probe at indent, its details four columns further */
static void print_probe(const struct preset *p, const struct preset_probe *pp, int in)
{
	printf("%*s%s\n", in, "", pp->spec);
	printf("%*s%s\n", in + 4, "", pp->measures);
	if (pp->err)
		printf("%*serrors: %s\n", in + 4, "", pp->err);
	if (pp == p->probes && p->silent)
		printf("%*sthread pool: the CPU time of all the process's threads during each call "
		       "(cores_in_calls), read at its two ends\n", in + 4, "");
	if (pp->share_of)
		printf("%*sshown as a share of %s's time\n", in + 4, "", pp->share_of);
	if (pp->args_doc) {
		printf("%*sarguments:", in + 4, "");
		for (int k = 0; k < pp->decode.nargs; k++)
			print_arg(&pp->decode.args[k]);
		printf(": %s\n", pp->args_doc);
	}
}

/* Does this host's CPU have PCID (a kernel entry keeps the TLB)? -1: unknown */
static int host_has_pcid(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192];
	int has = -1;

	if (!f)
		return -1;
	while (has < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5))
			has = strstr(line, " pcid ") || strstr(line, " pcid\n");
	fclose(f);
	return has;
}

static const struct { unsigned bit; const char *option; } optin_options[] = {
	{ RUNTIMES_BREAKDOWN, "--breakdown" },
	{ RUNTIMES_OPS, "--ops" },
};

/* What a nested probe pair costs, as measured (README, Benchmark) */
static void print_optin_cost(void)
{
	int pcid = host_has_pcid();

	printf("    cost: each nested call probed adds a probe pair to the call it runs in. Where the "
	       "CPUs lack PCID (grep -c pcid /proc/cpuinfo is 0; every kernel entry empties the TLB, "
	       "which the call then refills) a pair costs tens of us of that call's own time "
	       "(measured on llama_decode, 2-core VM: 25-45 us per call with inferlat's pair, 20-60 us "
	       "with empty BPF programs); with PCID, about 1 us (what a pair costs in a tight loop). This "
	       "host's CPUs %s.\n",
	       pcid < 0 ? "are unknown (no flags in /proc/cpuinfo)" : pcid ? "have PCID" : "lack PCID");
}

static void print_preset(const struct preset *p, bool full)
{
	printf("%-12s %s\n", p->name, p->about);
	if (!full)
		return;
	printf("  libraries (-r auto): %s\n", p->libs);
	printf("  serves: %s\n", p->serves);
	if (p->silent)
		printf("  when %s sees no call while the process is busy, inferlat says so once: %s\n",
		       strchr(p->probes[0].spec, ':') + 1, p->silent);
	for (size_t j = 0; j < p->n; j++)
		if (!p->probes[j].optin)
			print_probe(p, &p->probes[j], 2);
	for (size_t o = 0; o < N(optin_options); o++) {
		if (!preset_offers(p, optin_options[o].bit))
			continue;
		printf("  with %s (not probed by default): calls nested inside %s\n",
		       optin_options[o].option, p->nested_in);
		print_optin_cost();
		for (size_t j = 0; j < p->n; j++)
			if (p->probes[j].optin & optin_options[o].bit)
				print_probe(p, &p->probes[j], 4);
	}
}

int runtimes_main(int argc, char **argv)
{
	const struct preset *p;

	if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))) {
		printf("Usage: inferlat runtimes [NAME]\n"
		       "The runtime presets of -r NAME: their libraries, probes, what each measures and "
		       "the arguments it decodes. -r auto picks the presets whose libraries the -p targets "
		       "map. A preset probes its main call and the calls users ask about; the calls "
		       "nested inside its main call are listed under the option that adds them "
		       "(--breakdown, --ops), with what their probes cost.\n");
		return argc > 2 ? EXIT_USAGE : 0;
	}
	if (argc == 2) {
		p = find_preset(argv[1]);
		if (!p) {
			fprintf(stderr, "inferlat runtimes: no preset '%s' (inferlat runtimes lists them)\n",
				argv[1]);
			return EXIT_USAGE;
		}
		print_preset(p, true);
		return 0;
	}
	for (size_t i = 0; i < N(presets); i++) {
		print_preset(&presets[i], true);
		printf("\n");
	}
	printf("auto         the presets whose libraries the -p targets map\n");
	return 0;
}
