/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ONNX Runtime's entry points in a stripped libonnxruntime.so: the library
 * exports only OrtGetApiBase; every binding calls through the function
 * table OrtGetApiBase()->GetApi(v). The table is read by loading the library
 * in a throw-away child process without privileges (user nobody, no new
 * privileges), never in inferlat itself: the target's code never runs as
 * root.
 */
#ifndef INFERLAT_ORTAPI_H
#define INFERLAT_ORTAPI_H

#include <stddef.h>
#include <stdint.h>

/* Slots of struct OrtApi (onnxruntime_c_api.h), fixed since API version 1. */
#define ORTAPI_CREATE_SESSION 7
#define ORTAPI_CREATE_SESSION_FROM_ARRAY 8
#define ORTAPI_RUN 9
#define ORTAPI_NSLOTS 10

struct ortapi {
	uint64_t off[ORTAPI_NSLOTS];   /* file offsets of the table's first functions */
	char version[32];              /* GetVersionString() */
};

/* Read the table of the library at path. 0, or -errno with the reason in
 * err (one line). */
int ortapi_resolve(const char *path, struct ortapi *out, char *err, size_t errsz);

/* The same, once per file (device and inode): later calls for the file
 * return the first answer (its error too, explained once). */
int ortapi_cached(const char *path, uint64_t dev, uint64_t ino, const struct ortapi **out);

#endif
