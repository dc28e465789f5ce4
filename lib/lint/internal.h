/* Internal: the state of one lint run, shared by the rule files. */
#ifndef PSC_LINT_INTERNAL_H
#define PSC_LINT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "promscope/lint.h"
#include "util/buf.h"

typedef struct lint_ctx {
    const psc_model *m;
    const psc_lint_opts *o;
    psc_diag_list *out;
    psc_format fmt;
    const char *buf;            /* input bytes for columns; may be NULL */
    size_t len;
    psc_line_fn line_fn;        /* else lines from here (psc_lint_stream); may be NULL */
    void *line_ctx;
    uint64_t *line_starts;      /* byte offset of line i+1; built on first use */
    size_t nlines;
    bool lines_tried;
    bool *ignored;              /* per family index */
    psc_status st;              /* first failure (PSC_E_NOMEM) */
    psc_buf esc[4];             /* scratch for escaped names in messages */
    psc_buf series;             /* scratch for series descriptions */
} lint_ctx;

/* Append a finding of rule r unless the rule is off. The message is
 * printf-style; names and values in it must come from lint_q()/lint_series().
 * col 0 = whole line. */
void lint_emit(lint_ctx *c, psc_lint_rule r, psc_str metric, uint64_t line, uint64_t col,
               const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* `s` escaped for a message (control characters, invalid UTF-8; at most 120
 * input bytes then "..."), valid until the same slot (0..3) is used again. */
const char *lint_q(lint_ctx *c, int slot, psc_str s);
/* `name{a="b",...}` of a sample, escaped and shortened; valid until the next call. */
const char *lint_series(lint_ctx *c, const psc_sample *s);
/* The same for a name and a label set. */
const char *lint_series_of(lint_ctx *c, psc_str name, const psc_label *labels, size_t n);
/* A sample value as text ("NaN", "+Inf", "0.25"); `out` has 32 bytes. */
const char *lint_num(double v, char out[32]);

/* Columns (1-based) on input line `line`; 0 when the input is not available. */
uint64_t lint_col_name(lint_ctx *c, uint64_t line);
uint64_t lint_col_label(lint_ctx *c, uint64_t line, psc_str label);
uint64_t lint_col_value(lint_ctx *c, uint64_t line);

static inline bool lint_on(const lint_ctx *c, psc_lint_rule r)
{
    return c->o->enabled[r];
}

static inline bool lint_str_is(psc_str s, const char *lit)
{
    size_t n = 0;
    while (lit[n])
        n++;
    return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}

bool lint_has_suffix(psc_str s, const char *suffix);

/* The rule groups (naming.c, consistency.c, cardinality.c). */
void lint_naming(lint_ctx *c, const psc_family *f);
void lint_escaping(lint_ctx *c);
void lint_consistency(lint_ctx *c, const psc_family *f);
void lint_cardinality(lint_ctx *c);

#endif
