/*
 * fuzz_text - the Prometheus text parser (0.0.4 and 1.0.0) and the
 * validator, plus format detection and the number parser.
 *
 * The input is an exposition. It is run as text 0.0.4, text 1.0.0 and with
 * the format detected (AUTO), each with the default options and with tight
 * limits plus every leniency flag and --strict (fz_opts):
 *   1. the psc_parser_next() / psc_validator_feed() loop (fz_pull): progress
 *      on every call, positions inside the input, every entry field read and
 *      checked (legal names for 0.0.4, valid UTF-8, canonical NaN, exact
 *      millisecond timestamps, no duplicate labels, no exemplars);
 *   2. psc_validate_buffer() agrees with the loop on validity, returns
 *      PSC_OK exactly when it found no error, and its findings are sound
 *      (fz_check_diags: positions, offsets, counts, escaped messages);
 *   3. psc_validate_stream() fed in random pieces through small chunks
 *      reports exactly the findings of psc_validate_buffer();
 *   4. AUTO picks psc_format_detect()'s format;
 *   5. every whitespace-separated token up to 64 bytes that
 *      psc_parse_double() accepts prints with psc_format_double() as text
 *      that reads back as the same double;
 *   6. with an allocation failing in the middle of the input, retrying the
 *      PSC_E_NOMEM call (parse.h: "retrying is safe") gives every entry and
 *      error of a run without failure.
 * The loop and the validity agreement are the properties of the former
 * fuzz_parse target.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/alloc.h"

const char fz_target[] = "text";

static void check_format(const char *buf, size_t len, psc_format fmt, bool tight, uint64_t seed)
{
    psc_parse_opts o;
    fz_opts(&o, fmt, tight);
    fz_pull_result r;
    fz_pull(buf, len, &o, &r, NULL);
    if (fmt == PSC_FORMAT_AUTO && r.format != psc_format_detect(buf, len))
        fz_broken("AUTO parsed as %s, psc_format_detect says %s", psc_format_name(r.format),
                  psc_format_name(psc_format_detect(buf, len)));

    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_validate_buffer(buf, len, &o, &d);
    if (st != PSC_E_NOMEM) {
        fz_check_diags(&d, buf, len);
        if ((st == PSC_OK) != (d.nerrors == 0))
            fz_broken("psc_validate_buffer returned %s with %zu errors", psc_status_name(st), d.nerrors);
        if (!r.nomem && (d.nerrors == 0) != (r.errors == 0)) {
            fz_dump_diags(&d, 20);
            fz_broken("psc_validate_buffer (%zu errors) and the parser loop (%zu errors) disagree on "
                      "validity (%s%s)",
                      d.nerrors, r.errors, psc_format_name(r.format), tight ? ", tight" : "");
        }
    }
    if (fmt != PSC_FORMAT_AUTO && st != PSC_E_NOMEM) {
        psc_diag_list s;
        psc_diag_list_init(&s);
        psc_status st2 = fz_validate_stream(buf, len, &o, 1 + seed % 97, seed, &s);
        char why[256];
        if (st2 != PSC_E_NOMEM && (st2 != st || !fz_diags_equal(&d, &s, why)))
            fz_broken("psc_validate_stream (%s) differs from psc_validate_buffer (%s) in %s%s: %s",
                      psc_status_name(st2), psc_status_name(st), psc_format_name(fmt), tight ? ", tight" : "",
                      st2 != st ? "status" : why);
        psc_diag_list_release(&s);
    }
    psc_diag_list_release(&d);
}

/* One call of the loop, as recorded for comparison. */
typedef struct step {
    psc_status st;
    uint64_t line;
    int what; /* entry kind or error code */
} step;

/* Run the pull loop, recording every call; with @p fail_at > 0 the
 * allocation number fail_at fails, and every PSC_E_NOMEM is retried with
 * allocations working again (parse.h: retrying is safe). Returns the steps
 * (at most @p cap), or -1 when the parser could not be created. */
static long record(const char *buf, size_t len, const psc_parse_opts *o, long fail_at, step *out, size_t cap)
{
    psc_parser *p = psc_parser_new(o);
    if (!p)
        return -1;
    psc_parser_reset(p, buf, len);
    size_t n = 0, retries = 0;
    psc_alloc_fail_after(fail_at);
    while (n < cap) {
        psc_entry e;
        psc_error err;
        psc_error_clear(&err);
        psc_status st = psc_parser_next(p, &e, &err);
        if (st == PSC_E_NOMEM) {
            psc_alloc_fail_after(0);
            if (++retries > 2)
                fz_broken("psc_parser_next keeps failing after allocations work again");
            continue;
        }
        out[n++] = (step){st, st == PSC_OK ? e.line : err.line, st == PSC_OK ? (int)e.kind : err.code};
        if (st == PSC_DONE)
            break;
    }
    psc_alloc_fail_after(0);
    psc_parser_free(p);
    return (long)n;
}

/* An allocation failure in the middle of parsing changes nothing once it
 * is retried (BAD-INPUTS E6: the parser stays usable). */
static void check_retry(const char *buf, size_t len, psc_format fmt, uint64_t seed)
{
    enum { CAP = 4096 };
    static step a[CAP], b[CAP];
    psc_parse_opts o;
    fz_opts(&o, fmt, false);
    psc_parser *p = psc_parser_new(&o);
    if (!p)
        return;
    psc_parser_reset(p, buf, len);
    psc_alloc_fail_after(0);
    psc_entry e;
    psc_error err;
    for (size_t i = 0; i < CAP && psc_parser_next(p, &e, &err) != PSC_DONE; i++)
        ;
    long allocs = psc_alloc_count();
    psc_parser_free(p);
    if (allocs <= 0)
        return;
    long na = record(buf, len, &o, 0, a, CAP);
    long nb = record(buf, len, &o, 1 + (long)(seed % (uint64_t)allocs), b, CAP);
    if (na < 0 || nb < 0)
        return;
    if (na != nb)
        fz_broken("after a retried allocation failure the parser gives %ld results, not %ld", nb, na);
    for (long i = 0; i < na; i++)
        if (a[i].st != b[i].st || a[i].line != b[i].line || a[i].what != b[i].what)
            fz_broken("after a retried allocation failure result %ld is %s on line %llu, not %s on line %llu", i,
                      psc_status_name(b[i].st), (unsigned long long)b[i].line, psc_status_name(a[i].st),
                      (unsigned long long)a[i].line);
}

static void check_numbers(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && strchr(" \t\n{}=,\"#", buf[i]) && buf[i])
            i++;
        size_t s = i;
        while (i < len && !(strchr(" \t\n{}=,\"#", buf[i]) && buf[i]))
            i++;
        if (i == s || i - s > 64)
            continue;
        double v;
        psc_status st = psc_parse_double(buf + s, i - s, &v);
        fz_mix(st);
        if (st != PSC_OK)
            continue;
        char t[32];
        size_t n = psc_format_double(v, t);
        if (n == 0 || n >= 32 || strlen(t) != n)
            fz_broken("psc_format_double(%.17g) gave %zu bytes", v, n);
        double back;
        if (psc_parse_double(t, n, &back) != PSC_OK)
            fz_broken("psc_format_double(%.17g) = '%s' does not parse", v, t);
        if (isnan(v) ? !isnan(back) : memcmp(&v, &back, sizeof v) != 0)
            fz_broken("'%.*s' -> %.17g -> '%s' -> %.17g: not the same double", (int)(i - s), buf + s, v, t, back);
        fz_mix_double(back);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0; /* keep every run short; tests/limits_test.py covers big inputs */
    char *buf = malloc(size ? size : 1); /* exact size: over-reads show under ASan */
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    uint64_t seed = fz_hash(buf, size);
    static const psc_format fmts[] = {PSC_FORMAT_TEXT_0_0_4, PSC_FORMAT_TEXT_1_0_0, PSC_FORMAT_AUTO};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        check_format(buf, size, fmts[i], false, seed);
        check_format(buf, size, fmts[i], true, seed >> 7);
    }
    psc_format det = psc_format_detect(buf, size);
    if (det != PSC_FORMAT_TEXT_1_0_0 && det != PSC_FORMAT_OPENMETRICS_1_0)
        fz_broken("psc_format_detect returned %s", psc_format_name(det));
    /* the first line as a Content-Type value */
    const char *nl = memchr(buf, '\n', size);
    size_t cl = nl ? (size_t)(nl - buf) : size;
    psc_format ct = psc_format_from_content_type(buf, cl > 256 ? 256 : cl);
    if ((int)ct < PSC_FORMAT_AUTO || ct > PSC_FORMAT_OPENMETRICS_1_0)
        fz_broken("psc_format_from_content_type returned %d", (int)ct);
    fz_mix(ct);
    check_numbers(buf, size);
    check_retry(buf, size, (seed >> 3) & 1 ? PSC_FORMAT_TEXT_1_0_0 : PSC_FORMAT_TEXT_0_0_4, seed);
    free(buf);
    return 0;
}
