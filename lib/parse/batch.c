/*
 * Batches of parsed entries that outlive the parser's scratch memory, for
 * handing entries from one thread to another (parse/internal.h).
 *
 * An entry's slices point into the input or into the parser's scratch (its
 * label arrays, unescaped names, values and HELP text), which the next
 * psc_parser_next() reuses. psc_batch_put() copies what lies outside the
 * input into the batch's arena and leaves the rest pointing into the input,
 * which the caller keeps alive until the batch is consumed.
 */
#include <stdint.h>
#include <string.h>

#include "parse/internal.h"

void psc_batch_init(psc_batch *b)
{
    memset(b, 0, sizeof *b);
    psc_arena_init(&b->store);
}

void psc_batch_clear(psc_batch *b)
{
    b->n = 0;
    psc_arena_reset(&b->store);
}

void psc_batch_release(psc_batch *b)
{
    psc_free(b->items);
    psc_arena_release(&b->store);
    memset(b, 0, sizeof *b);
}

/* Copy *s into the arena unless it lies in [lo, lo + span). */
static inline bool keep_str(psc_arena *a, uintptr_t lo, size_t span, psc_str *s)
{
    const size_t at = (size_t)((uintptr_t)s->ptr - lo);
    if (!s->ptr || (at <= span && s->len <= span - at))
        return true;
    char *c = psc_arena_strndup(a, s->ptr, s->len);
    if (!c)
        return false;
    s->ptr = c;
    return true;
}

/* Copy n labels (and as many columns, when cols) into one arena block,
 * and their slices that lie outside the input. */
static bool keep_labels(psc_arena *a, uintptr_t lo, size_t span, const psc_label **labels,
                        const uint32_t **cols, size_t n)
{
    const size_t lb = n * sizeof **labels, cb = cols && *cols ? n * sizeof **cols : 0;
    char *m = psc_arena_alloc(a, lb + cb);
    if (!m)
        return false;
    psc_label *l = memcpy(m, *labels, lb);
    *labels = l;
    if (cols)
        *cols = cb ? memcpy(m + lb, *cols, cb) : NULL;
    for (size_t i = 0; i < n; i++)
        if (!keep_str(a, lo, span, &l[i].name) || !keep_str(a, lo, span, &l[i].value))
            return false;
    return true;
}

psc_status psc_batch_put(psc_batch *b, const char *lo, const char *hi, const psc_entry *e,
                         uint64_t tag, bool columns)
{
    if (b->n == b->cap && psc_grow((void **)&b->items, &b->cap, b->n + 1, sizeof *b->items))
        return PSC_E_NOMEM;
    psc_batch_item *it = &b->items[b->n];
    psc_arena *a = &b->store;
    psc_entry *c = &it->e;
    *c = *e;
    const uintptr_t l0 = (uintptr_t)lo;
    const size_t span = (size_t)(hi - lo);
    if (!keep_str(a, l0, span, &c->name) || !keep_str(a, l0, span, &c->text))
        return PSC_E_NOMEM;
    if (!columns || !c->nlabels)
        c->label_columns = NULL;
    if (c->nlabels && !keep_labels(a, l0, span, &c->labels,
                                   c->label_columns ? &c->label_columns : NULL, c->nlabels))
        return PSC_E_NOMEM;
    if (c->has_exemplar &&
        !keep_labels(a, l0, span, &c->exemplar.labels, NULL, c->exemplar.nlabels))
        return PSC_E_NOMEM;
    it->tag = tag;
    b->n++;
    return PSC_OK;
}
