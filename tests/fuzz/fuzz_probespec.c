// SPDX-License-Identifier: GPL-2.0
/*
 * The text parsers of the command line's values: probe specs (-e), error
 * predicates (-E), durations (-d, -i), labels (--label), textfile names and
 * the UTF-8 check. Each result must be consistent with its input.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "probespec.h"
#include "prom.h"
#include "textfile.h"
#include "utf8.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size), err[512], buf[32];
	struct probe_spec ps;
	struct prom_label l;
	int kind, bits;
	double d;

	if (!s)
		return 0;
	err[0] = '\0';
	if (!probespec_parse(s, &ps, err, sizeof(err))) {
		FUZZ_ASSERT(ps.text && !strcmp(ps.text, s));
		FUZZ_ASSERT(!ps.lib || *ps.lib);
		if (ps.at_offset)
			FUZZ_ASSERT(ps.lib && !ps.symbol);
		else
			FUZZ_ASSERT(ps.symbol && *ps.symbol);
		probespec_free(&ps);
	} else {
		FUZZ_ASSERT(err[0] && memchr(err, '\0', sizeof(err)));
		FUZZ_ASSERT(!ps.text && !ps.lib && !ps.symbol);
	}
	if (!probespec_parse_err(s, &kind, &bits, err, sizeof(err))) {
		int k2, b2;

		FUZZ_ASSERT(probespec_err_str(kind, bits, buf, sizeof(buf)));
		FUZZ_ASSERT(!probespec_parse_err(buf, &k2, &b2, err, sizeof(err)) && k2 == kind && b2 == bits);
	}
	if (!cli_parse_duration(s, &d))
		FUZZ_ASSERT(isfinite(d) && d > 0);
	if (!prom_label_parse(s, &l, err, sizeof(err))) {
		FUZZ_ASSERT(l.key && l.value && *l.value && utf8_valid(l.value));
		prom_label_free(&l);
	}
	if (textfile_name_ok(s))
		FUZZ_ASSERT(!strchr(s, '/') && strlen(s) > 5);
	utf8_valid(s);
	free(s);
	return 0;
}
