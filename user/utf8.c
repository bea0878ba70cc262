// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include "utf8.h"

size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogate or out of range */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n = utf8_len(s);

		if (!n)
			return false;
		s += n;
	}
	return true;
}

void utf8_put_escaped(FILE *f, const char *str, const char *(*esc)(unsigned char c, char buf[8]),
		      const char *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	char buf[8];

	while (*s) {
		const char *rep = esc(*s, buf);
		size_t n;

		if (rep) {
			fputs(rep, f);
			s++;
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			fputs(bad, f);
			s++;
			continue;
		}
		fwrite(s, 1, n, f);
		s += n;
	}
}
