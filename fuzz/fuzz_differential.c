/*
 * fuzz_differential - our verdicts against references.
 *
 *   1. OpenMetrics conformance: when the input is the input of a case of
 *      the OpenMetrics 1.0 parser suite (om_reference.h: hash, length ->
 *      shouldParse, built by gen_om_reference.py), our OpenMetrics verdict
 *      (psc_validate_buffer, and psc_model_parse) must be the suite's.
 *   2. Text -> OpenMetrics -> text: a valid text 1.0.0 input that
 *      OpenMetrics can express, written as OpenMetrics, parses without
 *      error to the same series (fz_model_diff_series: docs/convert.md
 *      "Type mapping"); that model written as text parses without error to
 *      the same series again.
 *   3. OpenMetrics -> text -> OpenMetrics: a valid OpenMetrics input that
 *      text can express gives the same series in text and back in
 *      OpenMetrics; without exemplars, units and the types text cannot tell
 *      (info, stateset, gaugehistogram) the OpenMetrics output of the round
 *      trip is byte for byte that of the input (docs/convert.md: "So
 *      OpenMetrics -> text -> OpenMetrics gives the OpenMetrics output
 *      back").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "om_reference.h"

const char fz_target[] = "differential";

static const fz_om_case *lookup(uint64_t h, size_t len)
{
    size_t lo = 0, hi = FZ_OM_CASES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fz_om_reference[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < FZ_OM_CASES && fz_om_reference[lo].hash == h; lo++)
        if (fz_om_reference[lo].len == len)
            return &fz_om_reference[lo];
    return NULL;
}

static void conformance(const char *buf, size_t len, uint64_t hash)
{
    const fz_om_case *c = lookup(hash, len);
    if (!c)
        return;
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = PSC_FORMAT_OPENMETRICS_1_0;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_validate_buffer(buf, len, &o, &d);
    if (st != PSC_E_NOMEM && (st == PSC_OK) != c->should_parse) {
        fz_dump_diags(&d, 10);
        fz_broken("conformance case %s: we %s it, shouldParse is %s", c->name, st == PSC_OK ? "accept" : "reject",
                  c->should_parse ? "true" : "false");
    }
    psc_diag_list_release(&d);
    psc_model *m = NULL;
    psc_diag_list_init(&d);
    st = psc_model_parse(buf, len, &o, &m, &d);
    if (st != PSC_E_NOMEM && (st == PSC_OK) != c->should_parse)
        fz_broken("conformance case %s: psc_model_parse %s it, shouldParse is %s", c->name,
                  st == PSC_OK ? "accepts" : "rejects", c->should_parse ? "true" : "false");
    psc_model_free(m);
    psc_diag_list_release(&d);
}

/* Parse @p b as @p fmt; the model, NULL when out of memory. A finding of
 * severity error is a broken property: @p b is the writer's output. */
static psc_model *reparse(const fz_buf *b, psc_format fmt, const char *what)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = fmt;
    o.max_samples = 0;
    psc_model *m = NULL;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_model_parse(b->p ? b->p : "", b->len, &o, &m, &d);
    if (st == PSC_E_SYNTAX) {
        fprintf(stderr, "%s:\n%.*s\n", what, (int)(b->len > 6000 ? 6000 : b->len), b->p);
        fz_dump_diags(&d, 20);
        fz_broken("%s does not validate", what);
    }
    psc_diag_list_release(&d);
    if (st == PSC_E_NOMEM) {
        psc_model_free(m);
        return NULL;
    }
    return m;
}

static void same_series(const psc_model *a, const psc_model *b, const char *what, const fz_buf *shown)
{
    const char *why = fz_model_diff_series(a, b);
    if (why) {
        fprintf(stderr, "output:\n%.*s\n", (int)(shown->len > 6000 ? 6000 : shown->len), shown->p);
        fz_broken("%s: %s", what, why);
    }
}

/* Has @p m a timestamp that is not a whole number of milliseconds in the
 * int64 range? Text cannot express it (docs/convert.md "Timestamps"); a
 * text timestamp near the int64 limits comes back from OpenMetrics seconds
 * as one. */
static bool inexact_timestamp(const psc_model *m)
{
    for (size_t i = 0; i < psc_model_family_count(m); i++) {
        const psc_family *f = psc_model_family(m, i);
        for (size_t j = 0; j < f->nmetrics; j++)
            for (size_t k = 0; k < f->metrics[j].nsamples; k++)
                if (f->metrics[j].samples[k].has_timestamp && !f->metrics[j].samples[k].timestamp_ms_exact)
                    return true;
    }
    return false;
}

static void text_roundtrip(const char *buf, size_t len)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = PSC_FORMAT_TEXT_1_0_0;
    psc_model *m1 = NULL, *m2 = NULL, *m3 = NULL;
    fz_buf om = {0}, text = {0};
    psc_error err;
    if (psc_model_parse(buf, len, &o, &m1, NULL) != PSC_OK)
        goto out;
    if (fz_write(m1, PSC_OUT_OPENMETRICS, &om, &err) != PSC_OK)
        goto out; /* not expressible, or out of memory */
    if (!(m2 = reparse(&om, PSC_FORMAT_OPENMETRICS_1_0, "OpenMetrics output of a valid text input")))
        goto out;
    same_series(m1, m2, "text -> OpenMetrics changes the series", &om);
    psc_status st = fz_write(m2, PSC_OUT_TEXT, &text, &err);
    if (st == PSC_E_NOMEM || (st == PSC_E_UNSUPPORTED && inexact_timestamp(m2)))
        goto out;
    if (st != PSC_OK)
        fz_broken("OpenMetrics converted from text cannot be written as text: %s", err.message);
    if (!(m3 = reparse(&text, PSC_FORMAT_TEXT_1_0_0, "text -> OpenMetrics -> text output")))
        goto out;
    same_series(m1, m3, "text -> OpenMetrics -> text changes the series", &text);
out:
    psc_model_free(m1);
    psc_model_free(m2);
    psc_model_free(m3);
    fz_buf_free(&om);
    fz_buf_free(&text);
}

/* Can text tell everything of @p m apart (docs/convert.md "Type mapping")? */
static bool text_keeps_all(const psc_model *m)
{
    for (size_t i = 0; i < psc_model_family_count(m); i++) {
        const psc_family *f = psc_model_family(m, i);
        if (f->type == PSC_TYPE_INFO || f->type == PSC_TYPE_STATESET || f->type == PSC_TYPE_GAUGEHISTOGRAM ||
            (f->has_unit && f->unit.len))
            return false;
        for (size_t j = 0; j < f->nmetrics; j++)
            for (size_t k = 0; k < f->metrics[j].nsamples; k++)
                if (f->metrics[j].samples[k].exemplar)
                    return false;
    }
    return true;
}

static void om_roundtrip(const char *buf, size_t len)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = PSC_FORMAT_OPENMETRICS_1_0;
    psc_model *m1 = NULL, *m2 = NULL, *m3 = NULL;
    fz_buf text = {0}, om = {0}, om1 = {0};
    psc_error err;
    if (psc_model_parse(buf, len, &o, &m1, NULL) != PSC_OK)
        goto out;
    if (fz_write(m1, PSC_OUT_TEXT, &text, &err) != PSC_OK)
        goto out; /* not expressible, or out of memory */
    if (!(m2 = reparse(&text, PSC_FORMAT_TEXT_1_0_0, "text output of a valid OpenMetrics input")))
        goto out;
    same_series(m1, m2, "OpenMetrics -> text changes the series", &text);
    psc_status st = fz_write(m2, PSC_OUT_OPENMETRICS, &om, &err);
    if (st == PSC_E_NOMEM)
        goto out;
    if (st != PSC_OK) {
        fprintf(stderr, "text:\n%.*s\n", (int)(text.len > 6000 ? 6000 : text.len), text.p);
        fz_broken("text converted from OpenMetrics cannot be written as OpenMetrics: %s", err.message);
    }
    if (!(m3 = reparse(&om, PSC_FORMAT_OPENMETRICS_1_0, "OpenMetrics -> text -> OpenMetrics output")))
        goto out;
    same_series(m1, m3, "OpenMetrics -> text -> OpenMetrics changes the series", &om);
    if (text_keeps_all(m1) && fz_write(m1, PSC_OUT_OPENMETRICS, &om1, &err) == PSC_OK && !fz_buf_eq(&om, &om1)) {
        fprintf(stderr, "OpenMetrics output of the input:\n%.*s\nafter the round trip through text:\n%.*s\n",
                (int)(om1.len > 6000 ? 6000 : om1.len), om1.p, (int)(om.len > 6000 ? 6000 : om.len), om.p);
        fz_broken("OpenMetrics -> text -> OpenMetrics does not give the OpenMetrics output back");
    }
out:
    psc_model_free(m1);
    psc_model_free(m2);
    psc_model_free(m3);
    fz_buf_free(&text);
    fz_buf_free(&om);
    fz_buf_free(&om1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    char *buf = malloc(size ? size : 1); /* exact size */
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    conformance(buf, size, fz_hash(data, size));
    text_roundtrip(buf, size);
    om_roundtrip(buf, size);
    free(buf);
    return 0;
}
