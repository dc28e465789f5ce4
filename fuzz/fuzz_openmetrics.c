/*
 * fuzz_openmetrics - the OpenMetrics 1.0 parser and the validator.
 *
 * The input is an exposition, run as OpenMetrics with the default options
 * and with tight limits plus every flag (fz_opts):
 *   1. the parser/validator loop (fz_pull): progress, positions, every entry
 *      field read and checked (legal names, valid UTF-8, canonical NaN,
 *      finite timestamps, exemplars of at most 128 code points, no entry
 *      after `# EOF`, no untyped TYPE, no COMMENT entries);
 *   2. psc_validate_buffer() agrees with the loop on validity and its
 *      findings are sound (fz_check_diags);
 *   3. psc_validate_stream() in random pieces reports exactly the findings
 *      of psc_validate_buffer();
 *   4. a valid input has an `# EOF` entry, and psc_format_detect() calls it
 *      OpenMetrics (a line that is exactly `# EOF`, DESIGN.md section 2).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

const char fz_target[] = "openmetrics";

static void check(const char *buf, size_t len, bool tight, uint64_t seed)
{
    psc_parse_opts o;
    fz_opts(&o, PSC_FORMAT_OPENMETRICS_1_0, tight);
    fz_pull_result r;
    fz_pull(buf, len, &o, &r, NULL);

    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_validate_buffer(buf, len, &o, &d);
    if (st == PSC_E_NOMEM) {
        psc_diag_list_release(&d);
        return;
    }
    fz_check_diags(&d, buf, len);
    if ((st == PSC_OK) != (d.nerrors == 0))
        fz_broken("psc_validate_buffer returned %s with %zu errors", psc_status_name(st), d.nerrors);
    if (!r.nomem && (d.nerrors == 0) != (r.errors == 0)) {
        fz_dump_diags(&d, 20);
        fz_broken("psc_validate_buffer (%zu errors) and the parser loop (%zu errors) disagree on validity%s",
                  d.nerrors, r.errors, tight ? " (tight)" : "");
    }
    if (!r.nomem && r.errors == 0) {
        if (!r.saw_eof)
            fz_broken("valid OpenMetrics input without an # EOF entry (BAD-INPUTS D1)");
        if (psc_format_detect(buf, len) != PSC_FORMAT_OPENMETRICS_1_0)
            fz_broken("valid OpenMetrics input detected as %s", psc_format_name(psc_format_detect(buf, len)));
    }
    psc_diag_list s;
    psc_diag_list_init(&s);
    psc_status st2 = fz_validate_stream(buf, len, &o, 1 + seed % 97, seed, &s);
    char why[256];
    if (st2 != PSC_E_NOMEM && (st2 != st || !fz_diags_equal(&d, &s, why)))
        fz_broken("psc_validate_stream (%s) differs from psc_validate_buffer (%s)%s: %s", psc_status_name(st2),
                  psc_status_name(st), tight ? " (tight)" : "", st2 != st ? "status" : why);
    psc_diag_list_release(&s);
    psc_diag_list_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    uint64_t seed = fz_hash(buf, size);
    check(buf, size, false, seed);
    check(buf, size, true, seed >> 7);
    free(buf);
    return 0;
}
