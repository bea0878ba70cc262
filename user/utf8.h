/* SPDX-License-Identifier: GPL-2.0 */
/* UTF-8 validation shared by the text exporters (JSON, Prometheus): both
 * formats require valid UTF-8, and process names need not be. */
#ifndef INFERLAT_UTF8_H
#define INFERLAT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 when s starts
 * an invalid, overlong, surrogate or out-of-range sequence. */
size_t utf8_len(const unsigned char *s);
/* Whether the whole NUL-terminated string is valid UTF-8. */
bool utf8_valid(const char *s);

/*
 * Write s to f for a text format: a byte for which esc() returns a string is
 * written as that string (esc may format into buf), other valid UTF-8 is
 * copied, and every byte that is not valid UTF-8 is written as bad.
 */
void utf8_put_escaped(FILE *f, const char *s, const char *(*esc)(unsigned char c, char buf[8]),
		      const char *bad);

#endif
