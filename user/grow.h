/* SPDX-License-Identifier: GPL-2.0 */
/* Arrays that grow by doubling, as every table of user/ does. */
#ifndef INFERLAT_GROW_H
#define INFERLAT_GROW_H

#include <stddef.h>

/* Room for element n of the array at *arrp (capacity *cap, elements of
 * elem bytes): doubled, or first when empty. 0, or -ENOMEM with the array
 * and *cap as they were. */
int grow_room(void *arrp, size_t n, size_t *cap, size_t elem, size_t first);

/* GROW(v, n, cap, first) for an array v of n elements: grow_room() typed */
#define GROW(v, n, cap, first) grow_room(&(v), (n), &(cap), sizeof(*(v)), (first))

#endif
