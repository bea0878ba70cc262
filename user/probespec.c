// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inferlat.h"
#include "probespec.h"

/* The LIB:SYMBOL separator is the first ':' not part of a C++ '::'. */
static const char *find_lib_sep(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p != ':')
			continue;
		if (p[1] == ':') {
			p++;
			continue;
		}
		return p;
	}
	return NULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static bool is_hex_offset(const char *s)
{
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
		return false;
	for (s += 2; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

int probespec_parse(const char *text, struct probe_spec *out, char *err, size_t errsz)
{
	const char *sep, *sym;
	char *plus;

	memset(out, 0, sizeof(*out));
	out->ret_bits = 32;
	if (!text || !*text) {
		snprintf(err, errsz, "empty probe spec: expected [LIB:]SYMBOL or LIB:0xOFFSET");
		return -EINVAL;
	}
	out->text = strdup(text);
	sep = find_lib_sep(text);
	sym = sep ? sep + 1 : text;
	if (sep) {
		if (sep == text) {
			snprintf(err, errsz, "probe '%s': empty library before ':'", text);
			goto fail;
		}
		out->lib = strndup(text, (size_t)(sep - text));
	}
	if (!*sym) {
		snprintf(err, errsz, "probe '%s': empty symbol after ':'", text);
		goto fail;
	}
	if (is_hex_offset(sym)) {
		if (!out->lib) {
			snprintf(err, errsz, "probe '%s': an offset needs its library: LIB:%s", text, sym);
			goto fail;
		}
		out->at_offset = true;
		if (parse_u64(sym, &out->offset)) {
			snprintf(err, errsz, "probe '%s': bad offset '%s'", text, sym);
			goto fail;
		}
		return 0;
	}
	out->symbol = strdup(sym);
	/* C++ names hold '+' only in 'operator+', '+=', '++': an offset is
	 * '+' followed by a number to the end */
	plus = strrchr(out->symbol, '+');
	if (plus && plus != out->symbol && plus[1] && isdigit((unsigned char)plus[1])) {
		if (parse_u64(plus + 1, &out->offset)) {
			snprintf(err, errsz, "probe '%s': bad offset '%s'", text, plus + 1);
			goto fail;
		}
		*plus = '\0';
	}
	return 0;
fail:
	probespec_free(out);
	return -EINVAL;
}

void probespec_free(struct probe_spec *s)
{
	free(s->text);
	free(s->lib);
	free(s->symbol);
	memset(s, 0, sizeof(*s));
}

int probespec_parse_err(const char *text, int *kind, int *bits, char *err, size_t errsz)
{
	char buf[32];
	size_t n = 0;
	const char *p;

	/* strip spaces */
	for (p = text; *p && n < sizeof(buf) - 1; p++)
		if (!isspace((unsigned char)*p))
			buf[n++] = *p;
	buf[n] = '\0';
	if (*p)
		goto bad;
	p = buf;
	if (!strncmp(p, "ret64", 5)) {
		*bits = 64;
		p += 5;
	} else if (!strncmp(p, "ret", 3)) {
		*bits = 32;
		p += 3;
	} else {
		goto bad;
	}
	if (!strcmp(p, "!=0"))
		*kind = INFERLAT_ERR_NONZERO;
	else if (!strcmp(p, "<0"))
		*kind = INFERLAT_ERR_NEG;
	else if (!strcmp(p, "==0"))
		*kind = INFERLAT_ERR_ZERO;
	else
		goto bad;
	return 0;
bad:
	snprintf(err, errsz, "error predicate '%s': expected ret!=0, ret<0 or ret==0 (ret64... for pointers and longs)", text);
	return -EINVAL;
}

const char *probespec_err_str(int kind, int bits, char *buf, size_t sz)
{
	const char *op = kind == INFERLAT_ERR_NONZERO ? "!=0" : kind == INFERLAT_ERR_NEG ? "<0" :
			 kind == INFERLAT_ERR_ZERO ? "==0" : NULL;

	if (!op)
		return NULL;
	snprintf(buf, sz, "%s%s", bits == 64 ? "ret64" : "ret", op);
	return buf;
}
