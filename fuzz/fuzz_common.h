/*
 * fuzz_common.h - what the fuzz targets of fuzz/ share: the sink every
 * accessor read goes to, a growable output buffer, the property checks of
 * parser entries, diagnostics and models, the model comparisons and the
 * corpus replayer that runs a target without a fuzzing engine.
 *
 * Each target defines LLVMFuzzerTestOneInput() and `fz_target` (its short
 * name, used in messages). A broken property ends the process with
 * fz_broken(), which prints the target and the reason and aborts: libFuzzer
 * and the replay test both report that as a crash.
 */
#ifndef PSC_FUZZ_COMMON_H
#define PSC_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promscope/promscope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Short name of the target ("text", "model", ...); defined by each target. */
extern const char fz_target[];

/* Print "fuzz_TARGET: MESSAGE" to stderr and abort. */
_Noreturn void fz_broken(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/*
 * Open library problems the targets tolerate so that the suite stays green
 * until the fix lands (fuzz/pending/ holds an input for each, and
 * fuzz/pending/README.md lists them). PSC_FUZZ_STRICT=1 in the environment
 * turns every tolerance off: the pending inputs then fail.
 */
bool fz_strict(void);

/* ---- the sink: every value a target reads is mixed into it ---------- */

/* Volatile, so that reads mixed into it cannot be optimised away. */
extern volatile uint64_t fz_sink;

void fz_mix(uint64_t v);
void fz_mix_double(double d);
/* Reads every byte of the slice (NULL with length 0 is fine). */
void fz_mix_str(psc_str s);
/* Reads every byte up to the NUL; NULL is a broken property. */
void fz_mix_cstr(const char *s, const char *what);

/* FNV-1a 64 of the bytes (fuzz/gen_om_reference.py computes the same). */
uint64_t fz_hash(const void *p, size_t n);

/* ---- output buffer: a psc_write_fn target -------------------------- */

typedef struct fz_buf {
    char *p;
    size_t len, cap;
    size_t fail_at; /* when not 0: fail the write that would pass this many bytes */
    size_t calls;
} fz_buf;

int fz_buf_write(void *ctx, const char *data, size_t n);
void fz_buf_free(fz_buf *b);
bool fz_buf_eq(const fz_buf *a, const fz_buf *b);

/* ---- inputs --------------------------------------------------------- */

/* Lines of a buffer as the parser counts them: newlines + 1. */
uint64_t fz_count_lines(const char *buf, size_t len);
/* Is s[0..n) valid UTF-8 (no overlong forms, surrogates or > U+10FFFF)? */
bool fz_utf8_valid(const char *s, size_t n);
/* Code points in valid UTF-8. */
size_t fz_utf8_count(const char *s, size_t n);
/* Is it [a-zA-Z_:][a-zA-Z0-9_:]* (metric) or [a-zA-Z_][a-zA-Z0-9_]* (label)? */
bool fz_legacy_name(psc_str s, bool metric);

/* Parse options: the defaults, or tight limits with every leniency flag. */
void fz_opts(psc_parse_opts *o, psc_format f, bool tight);

/* ---- parser and validator -------------------------------------------- */

/* What fz_pull() saw. */
typedef struct fz_pull_result {
    bool nomem;          /* an allocation failed: the counts are partial */
    psc_format format;   /* the parser's format after reset */
    size_t entries;      /* PSC_OK entries */
    size_t samples;
    size_t parse_errors; /* parser errors */
    size_t errors;       /* parser errors + validator error findings */
    bool saw_eof;        /* an EOF entry (OpenMetrics) */
} fz_pull_result;

/*
 * The psc_parser_next() / psc_validator_feed() loop over buf with opts:
 * every call must make progress (at most one entry or error per line, plus
 * the end), every entry and error position must lie inside the input, every
 * accessor of every entry is read and checked (fz_check_entry), the
 * validator's findings are checked (fz_check_diags). @p diags receives the
 * validator findings (optional).
 */
void fz_pull(const char *buf, size_t len, const psc_parse_opts *opts, fz_pull_result *out,
             psc_diag_list *diags);

/* Read and check every field of a parser entry of format @p fmt from
 * buf[0..len). */
void fz_check_entry(const psc_entry *e, const char *buf, size_t len, psc_format fmt);

/* Read and check every finding: rule, metric and message set, message
 * without control characters, nerrors/nwarnings equal to the findings,
 * position inside the input (@p buf NULL: positions not checked). */
void fz_check_diags(const psc_diag_list *l, const char *buf, size_t len);

/* psc_validate_stream() over buf, fed in pieces of 1 to @p max_piece bytes
 * (sizes from @p seed) through small internal chunks; the findings go to
 * @p diags. Returns its status. */
psc_status fz_validate_stream(const char *buf, size_t len, const psc_parse_opts *opts,
                              size_t max_piece, uint64_t seed, psc_diag_list *diags);

/* psc_model_parse_stream() over buf, read the same way. */
psc_status fz_model_parse_stream(const char *buf, size_t len, const psc_parse_opts *opts, size_t max_piece,
                                 uint64_t seed, psc_model **out, psc_diag_list *diags);

/* Are two finding lists the same (severity, rule, position, message)?
 * On a difference, returns false and describes it in why[0..256). */
bool fz_diags_equal(const psc_diag_list *a, const psc_diag_list *b, char why[256]);

/* ---- models ----------------------------------------------------------- */

/* Read every accessor of the model and check its documented invariants
 * (series counts, lookups, metric label sets, bounds, timestamps). @p buf
 * is the input the model was parsed from (for line bounds), may be NULL;
 * @p valid: the parse found no error. */
void fz_check_model(const psc_model *m, const char *buf, size_t len, bool valid);

/* Strict comparison of two models parsed from the same format family
 * (text -> text, OpenMetrics -> OpenMetrics): same families in the same
 * order, same metrics, samples, values, timestamps and exemplars. `le` and
 * `quantile` of buckets and quantiles compare as numbers. A family without
 * TYPE equals an untyped/unknown one with TYPE, and an empty HELP or UNIT
 * equals none. Returns NULL when equal, else a description (static buffer). */
enum { FZ_CMP_EXEMPLARS = 1, FZ_CMP_LINES = 2 }; /* also compare exemplars / input lines */
const char *fz_model_diff_strict(const psc_model *a, const psc_model *b, unsigned flags);

/* Comparison across formats: the same set of series (sample name, labels,
 * value, timestamp) after the documented type mapping of docs/convert.md
 * (counter `x` = `x_total`, `_created` samples = gauge `x_created`, info,
 * stateset and gaugehistogram = gauges, untyped = unknown, `le`/`quantile`
 * as numbers). Returns NULL when equal, else a description. */
const char *fz_model_diff_series(const psc_model *a, const psc_model *b);

/* Write @p m as @p f into @p out (cleared first). Returns the status. */
psc_status fz_write(const psc_model *m, psc_out_format f, fz_buf *out, psc_error *err);

/* Print the findings of a list to stderr (for the message before abort). */
void fz_dump_diags(const psc_diag_list *l, size_t max);

#endif
