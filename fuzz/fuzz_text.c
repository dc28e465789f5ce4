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
 *      that reads back as the same double.
 * The loop and the validity agreement are the properties of the former
 * fuzz_parse target.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

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
    free(buf);
    return 0;
}
