/*
 * fuzz_model - the model builder and every writer (issue 2 "Model and
 * writers": round trip).
 *
 * The input is an exposition, parsed with psc_model_parse() as text 0.0.4,
 * text 1.0.0, OpenMetrics and AUTO:
 *   1. the model comes back also with findings (PSC_E_SYNTAX), PSC_OK
 *      exactly when no error was found, valid exactly when
 *      psc_validate_buffer() finds no error, but for duplicate series
 *      across the groups of an interleaved family, which only the model
 *      looks for (docs/formats.md); every accessor is read and its invariants
 *      hold (fz_check_model: series counts, lookups, metric label sets,
 *      bounds, exact timestamps, input order);
 *   2. a valid model is written as text, OpenMetrics and JSON; writing twice
 *      gives the same bytes; a failing write callback gives PSC_E_IO; a
 *      not-expressible model writes nothing;
 *   3. text and OpenMetrics output parses again without error (as text
 *      1.0.0 / OpenMetrics); written again it gives the same bytes
 *      (canonical output, docs/convert.md); read back in the format family
 *      it came from it is the same model (fz_model_diff_strict), in the
 *      other family the same series (fz_model_diff_series);
 *   4. JSON output is valid JSON in the prom2json schema holding every
 *      sample of the model once (docs/convert.md "JSON");
 *   5. psc_model_parse_stream() fed in random pieces through small chunks
 *      gives the same status, findings and model (lines included);
 *   6. with the n-th allocation failing (n from the input's hash),
 *      psc_model_parse() and psc_model_write() return PSC_E_NOMEM cleanly
 *      (no model, no leak under LeakSanitizer).
 * PSC_FUZZ_NO_ROUNDTRIP=1 in the environment skips 2-4 (the writers still
 * run), to fuzz the model alone while a writer problem is open.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/alloc.h"

const char fz_target[] = "model";

static int g_no_roundtrip = -1;

static bool is_text(psc_format f)
{
    return f == PSC_FORMAT_TEXT_0_0_4 || f == PSC_FORMAT_TEXT_1_0_0;
}

/* A JSON number string as fmt.Sprint writes it: psc_parse_double reads it. */
static void json_number(json_t *v, const char *path)
{
    if (!json_is_string(v))
        fz_broken("JSON %s is not a string", path);
    double d;
    if (psc_parse_double(json_string_value(v), json_string_length(v), &d) != PSC_OK)
        fz_broken("JSON %s '%s' is not a number", path, json_string_value(v));
    fz_mix_double(d);
}

static size_t json_map_numbers(json_t *o, const char *path)
{
    if (!json_is_object(o))
        fz_broken("JSON %s is not an object", path);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        double d;
        if (psc_parse_double(k, strlen(k), &d) != PSC_OK)
            fz_broken("JSON %s key '%s' is not a number", path, k);
        json_number(v, path);
    }
    return json_object_size(o);
}

/* JSON output: prom2json's schema, every sample once. */
static void check_json(const fz_buf *out, const psc_model *m)
{
    json_error_t je;
    json_t *root = json_loadb(out->p ? out->p : "", out->len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!root) {
        fprintf(stderr, "%.*s\n", (int)(out->len > 4000 ? 4000 : out->len), out->p);
        fz_broken("JSON output does not parse: %s (line %d, column %d)", je.text, je.line, je.column);
    }
    if (!out->len || out->p[out->len - 1] != '\n')
        fz_broken("JSON output does not end with a line feed");
    if (!json_is_array(root))
        fz_broken("JSON output is not an array");
    size_t values = 0, i;
    json_t *fam;
    json_array_foreach(root, i, fam)
    {
        static const char *const types[] = {"COUNTER", "GAUGE", "SUMMARY", "UNTYPED", "HISTOGRAM",
                                            "GAUGE_HISTOGRAM"};
        json_t *name = json_object_get(fam, "name"), *help = json_object_get(fam, "help"),
               *type = json_object_get(fam, "type"), *metrics = json_object_get(fam, "metrics");
        if (!json_is_object(fam) || !json_is_string(name) || !json_is_string(help) || !json_is_string(type))
            fz_broken("JSON family %zu lacks name, help or type", i);
        bool known = false;
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            known |= strcmp(json_string_value(type), types[t]) == 0;
        if (!known)
            fz_broken("JSON family type '%s'", json_string_value(type));
        if (!metrics)
            continue;
        if (!json_is_array(metrics) || json_array_size(metrics) == 0)
            fz_broken("JSON metrics of family %zu is not a non-empty array", i);
        size_t j;
        json_t *mt;
        json_array_foreach(metrics, j, mt)
        {
            const char *k;
            json_t *v;
            if (!json_is_object(mt))
                fz_broken("JSON metric is not an object");
            json_object_foreach(mt, k, v)
            {
                if (strcmp(k, "labels") == 0) {
                    const char *ln;
                    json_t *lv;
                    if (!json_is_object(v) || json_object_size(v) == 0)
                        fz_broken("JSON labels is not a non-empty object");
                    json_object_foreach(v, ln, lv)
                    {
                        if (!json_is_string(lv))
                            fz_broken("JSON label '%s' is not a string", ln);
                    }
                } else if (strcmp(k, "timestamp_ms") == 0) {
                    json_number(v, "timestamp_ms");
                } else if (strcmp(k, "value") == 0 || strcmp(k, "count") == 0 || strcmp(k, "sum") == 0) {
                    json_number(v, k);
                    values++;
                } else if (strcmp(k, "buckets") == 0 || strcmp(k, "quantiles") == 0) {
                    values += json_map_numbers(v, k);
                } else {
                    fz_broken("JSON metric member '%s'", k);
                }
            }
        }
    }
    json_decref(root);
    if (values != psc_model_series_count(m))
        fz_broken("JSON output holds %zu values, the model %zu samples (docs/convert.md: every sample line "
                  "is somewhere in the output)",
                  values, psc_model_series_count(m));
}

static void show(const char *what, const fz_buf *b)
{
    fprintf(stderr, "%s (%zu bytes):\n%.*s\n", what, b->len, (int)(b->len > 6000 ? 6000 : b->len),
            b->p ? b->p : "");
}

static void roundtrip(const psc_model *m, psc_out_format f, uint64_t seed)
{
    psc_format from = psc_model_format(m);
    fz_buf a = {0}, a2 = {0}, b = {0};
    psc_error err;
    psc_status st = fz_write(m, f, &a, &err);
    if (st == PSC_E_NOMEM)
        goto out;
    if (st == PSC_E_UNSUPPORTED) {
        /* text and JSON express every text model */
        if (is_text(from) && f != PSC_OUT_OPENMETRICS)
            fz_broken("a valid %s model is not expressible as %s: %s", psc_format_name(from),
                      psc_out_format_name(f), err.message);
        goto out;
    }
    if (st != PSC_OK)
        fz_broken("psc_model_write %s: %s", psc_status_name(st), err.message);
    if (fz_write(m, f, &a2, &err) == PSC_OK && !fz_buf_eq(&a, &a2))
        fz_broken("writing the same model twice as %s gives different bytes", psc_out_format_name(f));
    if (a.len > 1) {
        fz_buf fail = {0};
        fail.fail_at = 1 + seed % (a.len - 1);
        psc_status fs = psc_model_write(m, f, fz_buf_write, &fail, &err);
        if (fs != PSC_E_IO && fs != PSC_E_NOMEM)
            fz_broken("psc_model_write with a failing callback returned %s", psc_status_name(fs));
        if (fs == PSC_E_IO && err.code != PSC_C_IO)
            fz_broken("psc_model_write I/O failure with code %s", psc_code_name((psc_code)err.code));
        fz_buf_free(&fail);
    }
    if (f == PSC_OUT_JSON) {
        check_json(&a, m);
        goto out;
    }
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = f == PSC_OUT_TEXT ? PSC_FORMAT_TEXT_1_0_0 : PSC_FORMAT_OPENMETRICS_1_0;
    o.max_samples = 0;
    psc_model *m2 = NULL;
    psc_diag_list d;
    psc_diag_list_init(&d);
    st = psc_model_parse(a.p ? a.p : "", a.len, &o, &m2, &d);
    if (st == PSC_E_NOMEM)
        goto out2;
    if (st != PSC_OK) {
        show("output", &a);
        fz_dump_diags(&d, 20);
        fz_broken("%s output of a valid %s input does not validate", psc_out_format_name(f),
                  psc_format_name(from));
    }
    fz_check_model(m2, a.p ? a.p : "", a.len, true);
    if (fz_write(m2, f, &b, &err) == PSC_OK && !fz_buf_eq(&a, &b)) {
        show("first output", &a);
        show("second output", &b);
        fz_broken("%s output of a %s input is not canonical: converting it again changes it",
                  psc_out_format_name(f), psc_format_name(from));
    }
    const char *why;
    if ((f == PSC_OUT_TEXT) == is_text(from))
        why = fz_model_diff_strict(m, m2, f == PSC_OUT_OPENMETRICS ? FZ_CMP_EXEMPLARS : 0);
    else
        why = fz_model_diff_series(m, m2);
    if (why) {
        show("output", &a);
        fz_broken("%s model written as %s reads back different: %s", psc_format_name(from),
                  psc_out_format_name(f), why);
    }
out2:
    psc_model_free(m2);
    psc_diag_list_release(&d);
out:
    fz_buf_free(&a);
    fz_buf_free(&a2);
    fz_buf_free(&b);
}

/* Fail the allocation number 1 + seed % (allocations of a normal run). */
static void oom(const char *buf, size_t len, const psc_parse_opts *o, uint64_t seed)
{
    psc_model *m = NULL;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_alloc_fail_after(0);
    psc_status st = psc_model_parse(buf, len, o, &m, &d);
    long n = psc_alloc_count();
    psc_diag_list_release(&d);
    if (st == PSC_E_NOMEM || n <= 0) {
        psc_model_free(m);
        return;
    }
    fz_buf w = {0};
    psc_error err;
    psc_alloc_fail_after(0);
    psc_status ws = st == PSC_OK ? psc_model_write(m, (psc_out_format)(seed % 3), fz_buf_write, &w, &err) : PSC_OK;
    long nw = psc_alloc_count();
    fz_buf_free(&w);
    if (ws == PSC_OK && nw > 0) {
        psc_alloc_fail_after(1 + (long)(seed % (uint64_t)nw));
        ws = psc_model_write(m, (psc_out_format)(seed % 3), fz_buf_write, &w, &err);
        psc_alloc_fail_after(0);
        if (ws != PSC_E_NOMEM && ws != PSC_OK)
            fz_broken("psc_model_write with allocation %ld failing returned %s", 1 + (long)(seed % (uint64_t)nw),
                      psc_status_name(ws));
        fz_buf_free(&w);
    }
    psc_model_free(m);
    m = NULL;
    long k = 1 + (long)(seed % (uint64_t)n);
    psc_alloc_fail_after(k);
    st = psc_model_parse(buf, len, o, &m, &d);
    psc_alloc_fail_after(0);
    if (st == PSC_E_NOMEM && m)
        fz_broken("psc_model_parse returned PSC_E_NOMEM and a model (allocation %ld of %ld failing)", k, n);
    if (st != PSC_E_NOMEM && !m)
        fz_broken("psc_model_parse returned %s without a model", psc_status_name(st));
    psc_model_free(m);
    psc_diag_list_release(&d);
}

static void run_format(const char *buf, size_t len, psc_format fmt, uint64_t seed)
{
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.format = fmt;
    psc_model *m = NULL;
    psc_diag_list d;
    psc_diag_list_init(&d);
    psc_status st = psc_model_parse(buf, len, &o, &m, &d);
    if (st == PSC_E_NOMEM) {
        if (m)
            fz_broken("psc_model_parse returned PSC_E_NOMEM and a model");
        psc_diag_list_release(&d);
        return;
    }
    if (!m)
        fz_broken("psc_model_parse returned %s and no model", psc_status_name(st));
    if (st != PSC_OK && st != PSC_E_SYNTAX)
        fz_broken("psc_model_parse returned %s", psc_status_name(st));
    if ((st == PSC_OK) != (d.nerrors == 0))
        fz_broken("psc_model_parse returned %s with %zu errors", psc_status_name(st), d.nerrors);
    psc_format used = psc_model_format(m);
    if (used != (fmt == PSC_FORMAT_AUTO ? psc_format_detect(buf, len) : fmt))
        fz_broken("model of format %s for %s", psc_format_name(used), psc_format_name(fmt));
    fz_check_diags(&d, buf, len);
    fz_check_model(m, buf, len, st == PSC_OK);

    psc_diag_list v;
    psc_diag_list_init(&v);
    psc_parse_opts vo = o;
    vo.format = used;
    /* The model also finds duplicate series across the groups of an
     * interleaved family, which the validator does not look for
     * (docs/formats.md): only then may the model alone have errors. */
    bool cross_dup = false;
    for (size_t i = 0; i < d.count; i++)
        cross_dup |= d.items[i].severity == PSC_SEV_ERROR &&
                     strcmp(d.items[i].rule, psc_code_name(PSC_C_DUPLICATE_SERIES)) == 0;
    if (psc_validate_buffer(buf, len, &vo, &v) != PSC_E_NOMEM && (v.nerrors == 0) != (d.nerrors == 0) &&
        !(v.nerrors == 0 && cross_dup)) {
        fz_dump_diags(&d, 10);
        fz_dump_diags(&v, 10);
        fz_broken("psc_model_parse (%zu errors) and psc_validate_buffer (%zu errors) disagree on validity",
                  d.nerrors, v.nerrors);
    }
    psc_diag_list_release(&v);

    /* the streamed model and findings are those of the whole buffer */
    if (fmt != PSC_FORMAT_AUTO) {
        psc_model *ms = NULL;
        psc_diag_list ds;
        psc_diag_list_init(&ds);
        psc_status ss = fz_model_parse_stream(buf, len, &o, 1 + seed % 61, seed >> 11, &ms, &ds);
        if (ss != PSC_E_NOMEM) {
            char why[256];
            const char *mwhy = ms ? fz_model_diff_strict(m, ms, FZ_CMP_EXEMPLARS | FZ_CMP_LINES) : "no model";
            if (ss != st || !fz_diags_equal(&d, &ds, why) || mwhy)
                fz_broken("psc_model_parse_stream (%s) differs from psc_model_parse (%s) in %s: %s",
                          psc_status_name(ss), psc_status_name(st), psc_format_name(fmt),
                          ss != st ? "status" : mwhy ? mwhy : why);
        }
        psc_model_free(ms);
        psc_diag_list_release(&ds);
    }

    if (st == PSC_OK) {
        if (!g_no_roundtrip) {
            roundtrip(m, PSC_OUT_TEXT, seed);
            roundtrip(m, PSC_OUT_OPENMETRICS, seed >> 3);
            roundtrip(m, PSC_OUT_JSON, seed >> 5);
        } else {
            for (int f = PSC_OUT_TEXT; f <= PSC_OUT_JSON; f++) {
                fz_buf b = {0};
                psc_error err;
                fz_write(m, (psc_out_format)f, &b, &err);
                fz_buf_free(&b);
            }
        }
    }
    psc_model_free(m);
    psc_diag_list_release(&d);
    if (fmt == PSC_FORMAT_AUTO)
        oom(buf, len, &o, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    if (g_no_roundtrip < 0) {
        const char *e = getenv("PSC_FUZZ_NO_ROUNDTRIP");
        g_no_roundtrip = e && *e && strcmp(e, "0") != 0;
    }
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    uint64_t seed = fz_hash(buf, size);
    static const psc_format fmts[] = {PSC_FORMAT_TEXT_0_0_4, PSC_FORMAT_TEXT_1_0_0, PSC_FORMAT_OPENMETRICS_1_0,
                                      PSC_FORMAT_AUTO};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        run_format(buf, size, fmts[i], seed);
    free(buf);
    return 0;
}
