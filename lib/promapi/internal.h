/* Internal helpers shared by the files of lib/promapi. */
#ifndef PSC_PROMAPI_INTERNAL_H
#define PSC_PROMAPI_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "promscope/promapi.h"

/* Set err (when not NULL and not already set) to status with a printf-style
 * message. Returns status. */
psc_status psc_api_set_error(psc_error *err, psc_status status, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Write s[0..n) into dst (capacity cap, always NUL-terminated) with control
 * characters, backslashes and invalid UTF-8 escaped C-style, at most
 * max input bytes, then "..." (BAD-INPUTS H1/H2). Returns dst. */
char *psc_api_escape(char *dst, size_t cap, const char *s, size_t n, size_t max);

/* Seed jansson's hash once per process (BAD-INPUTS G13). */
void psc_api_json_init(void);

#endif
