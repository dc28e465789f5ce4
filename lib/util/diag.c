/* The diagnostics list of promscope/diag.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promscope/codes.h"
#include "promscope/diag.h"
#include "util/alloc.h"
#include "util/buf.h"

const char *psc_severity_name(psc_severity s)
{
    switch (s) {
    case PSC_SEV_INFO: return "info";
    case PSC_SEV_WARNING: return "warning";
    case PSC_SEV_ERROR: return "error";
    }
    return "unknown";
}

void psc_diag_list_init(psc_diag_list *l)
{
    memset(l, 0, sizeof *l);
}

void psc_diag_list_release(psc_diag_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        psc_free(l->items[i].metric);
        psc_free(l->items[i].message);
    }
    psc_free(l->items);
    size_t max = l->max;
    psc_diag_list_init(l);
    l->max = max;
}

static psc_status add_owned(psc_diag_list *l, psc_severity sev, const char *rule, char *metric,
                            char *msg, uint64_t offset, uint64_t line, uint64_t column)
{
    size_t max = l->max ? l->max : 10000;
    if (l->count >= max) {
        l->dropped++;
        if (sev == PSC_SEV_ERROR)
            l->nerrors++;
        else if (sev == PSC_SEV_WARNING)
            l->nwarnings++;
        psc_free(metric);
        psc_free(msg);
        return PSC_OK;
    }
    if (psc_grow((void **)&l->items, &l->cap, l->count + 1, sizeof *l->items)) {
        psc_free(metric);
        psc_free(msg);
        return PSC_E_NOMEM;
    }
    psc_diag *d = &l->items[l->count++];
    d->severity = sev;
    d->rule = rule;
    d->metric = metric;
    d->message = msg;
    d->offset = offset;
    d->line = line;
    d->column = column;
    if (sev == PSC_SEV_ERROR)
        l->nerrors++;
    else if (sev == PSC_SEV_WARNING)
        l->nwarnings++;
    return PSC_OK;
}

static char *escaped_copy(psc_str s)
{
    psc_buf b = {0};
    if (psc_buf_append_escaped(&b, s.ptr ? s.ptr : "", s.len, 256) || psc_buf_reserve(&b, 0)) {
        psc_buf_release(&b);
        return NULL;
    }
    return b.data;
}

psc_status psc_diag_add(psc_diag_list *l, psc_severity sev, const char *rule, psc_str metric,
                        uint64_t offset, uint64_t line, uint64_t column, const char *fmt, ...)
{
    psc_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof tmp)
        n = sizeof tmp - 1;
    if (psc_buf_append(&b, tmp, (size_t)n) || psc_buf_reserve(&b, 0)) {
        psc_buf_release(&b);
        return PSC_E_NOMEM;
    }
    char *m = escaped_copy(metric);
    if (!m) {
        psc_buf_release(&b);
        return PSC_E_NOMEM;
    }
    return add_owned(l, sev, rule, m, b.data, offset, line, column);
}

psc_status psc_diag_add_error(psc_diag_list *l, const psc_error *err, psc_str metric)
{
    return psc_diag_add(l, PSC_SEV_ERROR, psc_code_name((psc_code)err->code), metric, err->offset,
                        err->line, err->column, "%s", err->message);
}

static int diag_le(const psc_diag *x, const psc_diag *y)
{
    return x->line < y->line || (x->line == y->line && x->column <= y->column);
}

void psc_diag_list_sort(psc_diag_list *l)
{
    size_t n = l->count;
    if (n < 2)
        return;
    psc_diag *tmp = psc_malloc(n * sizeof *tmp);
    if (!tmp) {
        /* stable insertion sort in place, needs no memory */
        for (size_t i = 1; i < n; i++) {
            psc_diag d = l->items[i];
            size_t j = i;
            while (j > 0 && !diag_le(&l->items[j - 1], &d)) {
                l->items[j] = l->items[j - 1];
                j--;
            }
            l->items[j] = d;
        }
        return;
    }
    /* bottom-up merge sort: stable, O(n log n) */
    psc_diag *src = l->items, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = diag_le(&src[a], &src[b]) ? src[a++] : src[b++];
            while (a < mid)
                dst[k++] = src[a++];
            while (b < hi)
                dst[k++] = src[b++];
        }
        psc_diag *t = src;
        src = dst;
        dst = t;
    }
    if (src != l->items)
        memcpy(l->items, src, n * sizeof *src);
    psc_free(src == l->items ? dst : src);
}
