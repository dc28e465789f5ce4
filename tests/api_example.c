/* Parse, validate and convert a small exposition with libpromscope. */
#include <stdio.h>

#include <promscope/promscope.h>

static const char text[] =
    "# HELP http_requests_total Requests served.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"get\",code=\"200\"} 1027\n"
    "http_requests_total{method=\"get\",code=\"200\"} 3\n"
    "http_requests_total{method=\"post\" code=\"400\"} 3\n";

static int write_stdout(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

int main(void)
{
    size_t len = sizeof text - 1; /* input is (pointer, length), never NUL-terminated */
    psc_parse_opts opts;
    psc_parse_opts_init(&opts);
    opts.format = PSC_FORMAT_TEXT_0_0_4;

    /* 1. The pull parser: one entry per call, slices into `text`. */
    psc_parser *p = psc_parser_new(&opts);
    if (!p)
        return 3;
    psc_parser_reset(p, text, len);
    psc_entry e;
    psc_error err;
    psc_status st;
    while ((st = psc_parser_next(p, &e, &err)) != PSC_DONE) {
        if (st == PSC_E_NOMEM)
            return 3;
        if (st != PSC_OK) /* a bad line: reported, then skipped */
            printf("line %llu, column %llu: %s [%s]\n", (unsigned long long)err.line,
                   (unsigned long long)err.column, err.message, psc_code_name(err.code));
        else if (e.kind == PSC_ENTRY_SAMPLE)
            printf("sample %.*s with %zu labels = %g\n", (int)e.name.len, e.name.ptr,
                   e.nlabels, e.value);
    }
    psc_parser_free(p);

    /* 2. Validation: every finding of parser and validator, as data. */
    psc_diag_list diags;
    psc_diag_list_init(&diags);
    if (psc_validate_buffer(text, len, &opts, &diags) == PSC_E_NOMEM)
        return 3;
    psc_diag_list_sort(&diags);
    for (size_t i = 0; i < diags.count; i++)
        printf("<example>:%llu:%llu: %s: %s [%s]\n", (unsigned long long)diags.items[i].line,
               (unsigned long long)diags.items[i].column,
               psc_severity_name(diags.items[i].severity), diags.items[i].message,
               diags.items[i].rule);
    psc_diag_list_release(&diags);

    /* 3. The model keeps the valid lines (of duplicates the first) and owns
     *    its memory; write it as OpenMetrics. */
    psc_model *m = NULL;
    if (psc_model_parse(text, len, &opts, &m, NULL) == PSC_E_NOMEM)
        return 3;
    printf("%zu families, %zu series\n", psc_model_family_count(m), psc_model_series_count(m));
    st = psc_model_write(m, PSC_OUT_OPENMETRICS, write_stdout, NULL, &err);
    psc_model_free(m);
    return st == PSC_OK ? 0 : 1;
}
