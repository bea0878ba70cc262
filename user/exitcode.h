/* SPDX-License-Identifier: GPL-2.0 */
/* Exit statuses of every inferlat command (inferlat(8), EXIT STATUS). 0 is
 * done and 1 a failure at run time, explained on stderr. */
#ifndef INFERLAT_EXITCODE_H
#define INFERLAT_EXITCODE_H

#define EXIT_USAGE 2   /* bad command line or input, said in one line */
#define EXIT_CHECK 3   /* an SLO check failed, or a regression against --baseline */

#endif
