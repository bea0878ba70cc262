// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"

int grow_room(void *arrp, size_t n, size_t *cap, size_t elem, size_t first)
{
	size_t nc = *cap ? *cap * 2 : first;
	void *v, *nv;

	if (n < *cap)
		return 0;
	if (nc < n + 1 || nc > SIZE_MAX / elem)
		return -ENOMEM;
	/* the caller's pointer is of its own type: copied, not cast through */
	memcpy(&v, arrp, sizeof(v));
	nv = realloc(v, nc * elem);
	if (!nv)
		return -ENOMEM;
	memcpy(arrp, &nv, sizeof(nv));
	*cap = nc;
	return 0;
}
