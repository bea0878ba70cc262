// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json_object.h>
#include <json-c/json_util.h>
#include "baseline.h"
#include "json.h"

#define FORMAT "inferlat-baseline"
#define VERSION 1

void baseline_free(struct baseline *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].name);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

const struct baseline_probe *baseline_find(const struct baseline *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->v[i].name, name))
			return &b->v[i];
	return NULL;
}

int baseline_compare(const struct baseline *base, const struct baseline *cur, double threshold,
		     struct probe_comparison **out, size_t *n)
{
	struct probe_comparison *v = calloc(cur->n ? cur->n : 1, sizeof(*v));

	*out = v;
	*n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cur->n; i++) {
		const struct baseline_probe *b = baseline_find(base, cur->v[i].name);

		if (!b)
			continue;
		v[*n].probe = cur->v[i].name;
		compare_hists(&b->h, &cur->v[i].h, threshold, &v[*n].c);
		(*n)++;
	}
	return 0;
}

static struct baseline_probe *add_probe(struct baseline *b, const char *name)
{
	struct baseline_probe *nv = realloc(b->v, (b->n + 1) * sizeof(*nv)), *p;

	if (!nv)
		return NULL;
	b->v = nv;
	p = &b->v[b->n];
	memset(p, 0, sizeof(*p));
	hist_reset(&p->h);
	p->name = strdup(name);
	if (!p->name)
		return NULL;
	b->n++;
	return p;
}

struct collect_ctx {
	const struct aggregator *a;
	struct baseline *b;
};

static int collect_one(void *ctx, const struct agg_run_view *v)
{
	struct collect_ctx *c = ctx;
	const char *name = c->a->ps->v[v->probe_id].name;
	struct baseline_probe *p = (struct baseline_probe *)baseline_find(c->b, name);

	if (!p && !(p = add_probe(c->b, name)))
		return -ENOMEM;
	hist_merge(&p->h, v->run);
	p->errors += v->errors;
	p->unsplit += v->unsplit;
	p->res.oncpu_ns += v->res->oncpu_ns;
	p->res.offcpu_ns += v->res->offcpu_ns;
	p->res.runq_ns += v->res->runq_ns;
	p->res.minflt += v->res->minflt;
	p->res.majflt += v->res->majflt;
	p->res.nvcsw += v->res->nvcsw;
	p->res.nivcsw += v->res->nivcsw;
	return 0;
}

int baseline_collect(const struct aggregator *a, double duration_s, struct baseline *out)
{
	struct collect_ctx c = { a, out };
	int err;

	memset(out, 0, sizeof(*out));
	out->duration_s = duration_s;
	/* probes never called are in the file too, with no calls */
	for (size_t i = 0; i < a->ps->n; i++)
		if (!baseline_find(out, a->ps->v[i].name) && !add_probe(out, a->ps->v[i].name)) {
			baseline_free(out);
			return -ENOMEM;
		}
	err = agg_foreach_run(a, collect_one, &c);
	if (!err)
		err = agg_foreach_exited(a, collect_one, &c);
	if (err)
		baseline_free(out);
	return err;
}

/* One probe's line of the file: its counters and non-empty buckets. */
static void put_probe(FILE *f, const struct baseline_probe *p, bool last)
{
	bool first = true;

	fputs("{\"probe\": ", f);
	json_put_str(f, p->name);
	fprintf(f, ", \"calls\": %llu, \"errors\": %llu, \"sum_ns\": %llu, \"cpu_ns\": %llu, "
		"\"offcpu_ns\": %llu, \"runqueue_ns\": %llu, \"unsplit_calls\": %llu, \"buckets\": [",
		(unsigned long long)p->h.count, (unsigned long long)p->errors,
		(unsigned long long)p->h.sum_ns, (unsigned long long)p->res.oncpu_ns,
		(unsigned long long)p->res.offcpu_ns, (unsigned long long)p->res.runq_ns,
		(unsigned long long)p->unsplit);
	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS; i++) {
		if (!p->h.b[i])
			continue;
		fprintf(f, "%s[%llu, %llu, %llu]", first ? "" : ", ", (unsigned long long)hist_bucket_lo(i),
			(unsigned long long)hist_bucket_hi(i), (unsigned long long)p->h.b[i]);
		first = false;
	}
	fprintf(f, "]}%s\n", last ? "" : ",");
}

/* Written as every JSON inferlat writes (json.c); read back with json-c. */
int baseline_save(const struct baseline *b, const char *path, const char *version, double created)
{
	FILE *f = fopen(path, "we");
	int err;

	if (!f)
		return -errno;
	fprintf(f, "{\"format\": ");
	json_put_str(f, FORMAT);
	fprintf(f, ", \"version\": %d, \"inferlat\": ", VERSION);
	json_put_str(f, version);
	fprintf(f, ", \"created\": %.6f, \"duration_s\": %.9f, \"probes\": [\n", created, b->duration_s);
	for (size_t i = 0; i < b->n; i++)
		put_probe(f, &b->v[i], i + 1 == b->n);
	fputs("]}\n", f);
	err = ferror(f) ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* A non-negative integer member. */
static int get_u64(struct json_object *o, const char *key, uint64_t *v)
{
	struct json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_int) ||
	    json_object_get_int64(m) < 0)
		return -EINVAL;
	*v = json_object_get_uint64(m);
	return 0;
}

static int load_probe(struct json_object *o, struct baseline *b, size_t idx, char *err, size_t errsz)
{
	struct json_object *name, *bk;
	struct baseline_probe *p;
	uint64_t calls, n = 0;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "probe", &name) ||
	    !json_object_is_type(name, json_type_string)) {
		snprintf(err, errsz, "probe %zu has no \"probe\" name", idx);
		return -EINVAL;
	}
	if (baseline_find(b, json_object_get_string(name))) {
		snprintf(err, errsz, "probe '%s' is there twice", json_object_get_string(name));
		return -EINVAL;
	}
	p = add_probe(b, json_object_get_string(name));
	if (!p) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (get_u64(o, "calls", &calls) || get_u64(o, "errors", &p->errors) ||
	    get_u64(o, "sum_ns", &p->h.sum_ns) || get_u64(o, "cpu_ns", &p->res.oncpu_ns) ||
	    get_u64(o, "offcpu_ns", &p->res.offcpu_ns) || get_u64(o, "runqueue_ns", &p->res.runq_ns) ||
	    get_u64(o, "unsplit_calls", &p->unsplit) || !json_object_object_get_ex(o, "buckets", &bk) ||
	    !json_object_is_type(bk, json_type_array)) {
		snprintf(err, errsz, "probe '%s': calls, errors, sum_ns, cpu_ns, offcpu_ns, runqueue_ns, "
			 "unsplit_calls (counts) and buckets are required", p->name);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(bk); i++) {
		struct json_object *t = json_object_array_get_idx(bk, i), *e[3];
		uint64_t v[3];
		uint32_t idx;

		if (!json_object_is_type(t, json_type_array) || json_object_array_length(t) != 3)
			goto bad_bucket;
		for (int k = 0; k < 3; k++) {
			e[k] = json_object_array_get_idx(t, k);
			if (!json_object_is_type(e[k], json_type_int) || json_object_get_int64(e[k]) < 0)
				goto bad_bucket;
			v[k] = json_object_get_uint64(e[k]);
		}
		idx = inferlat_hist_bucket(v[0]);
		if (hist_bucket_lo(idx) != v[0] || hist_bucket_hi(idx) != v[1]) {
			snprintf(err, errsz, "probe '%s': bucket [%llu, %llu] ns is not one of this "
				 "inferlat's (made with another bucket layout?)", p->name,
				 (unsigned long long)v[0], (unsigned long long)v[1]);
			return -EINVAL;
		}
		p->h.b[idx] += v[2];
		n += v[2];
		if (v[2] && v[0] < p->h.min_ns)
			p->h.min_ns = v[0];
		if (v[2] && v[1] > p->h.max_ns)
			p->h.max_ns = idx == INFERLAT_HIST_BUCKETS - 1 ? v[0] : v[1];
		continue;
bad_bucket:
		snprintf(err, errsz, "probe '%s': bucket %zu is not [LO_NS, HI_NS, COUNT]", p->name, i);
		return -EINVAL;
	}
	if (n != calls || p->errors > calls) {
		snprintf(err, errsz, "probe '%s': the buckets hold %llu calls, \"calls\" says %llu",
			 p->name, (unsigned long long)n, (unsigned long long)calls);
		return -EINVAL;
	}
	p->h.count = calls;
	return 0;
}

int baseline_load(const char *path, struct baseline *out, char *err, size_t errsz)
{
	struct json_object *root, *m, *probes;
	char why[256] = "";
	int ret = -EINVAL;

	memset(out, 0, sizeof(*out));
	root = json_object_from_file(path);
	if (!root) {
		const char *e = json_util_get_last_err();
		size_t n;

		snprintf(why, sizeof(why), "%s", e ? e : "cannot be read");
		n = strlen(why);
		while (n && (why[n - 1] == '\n' || why[n - 1] == '.'))
			why[--n] = '\0';
		snprintf(err, errsz, "--baseline %s: %s (give a file made by --save-baseline)", path, why);
		return access(path, R_OK) ? -errno : -EINVAL;
	}
	if (!json_object_object_get_ex(root, "format", &m) || !json_object_is_type(m, json_type_string) ||
	    strcmp(json_object_get_string(m), FORMAT)) {
		snprintf(why, sizeof(why), "not an inferlat baseline (no \"format\": \"" FORMAT "\")");
		goto out;
	}
	if (!json_object_object_get_ex(root, "version", &m) || json_object_get_int(m) != VERSION) {
		snprintf(why, sizeof(why), "baseline format version %s; this inferlat reads version %d",
			 m ? json_object_to_json_string(m) : "missing", VERSION);
		goto out;
	}
	if (json_object_object_get_ex(root, "duration_s", &m))
		out->duration_s = json_object_get_double(m);
	if (!json_object_object_get_ex(root, "probes", &probes) ||
	    !json_object_is_type(probes, json_type_array)) {
		snprintf(why, sizeof(why), "no \"probes\" array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(probes); i++) {
		ret = load_probe(json_object_array_get_idx(probes, i), out, i, why, sizeof(why));
		if (ret)
			goto out;
	}
	ret = 0;
out:
	json_object_put(root);
	if (ret) {
		snprintf(err, errsz, "--baseline %s: %s", path, why);
		baseline_free(out);
		if (ret != -ENOMEM)
			ret = -EINVAL;
	}
	return ret;
}
