/*
 * Internal: distinct values per (group, label name), the engine behind
 * `promscope cardinality --by-label` (group 0 for everything) and the lint
 * rules max-label-values and unbounded-label (one group per family).
 *
 * Every distinct value is copied once into an arena, so the models the
 * values came from may be freed between calls.
 */
#ifndef PSC_CARD_LSTATS_H
#define PSC_CARD_LSTATS_H

#include <stdbool.h>
#include <stdint.h>

#include "promscope/card.h"
#include "util/arena.h"
#include "util/hash.h"

typedef struct psc_lstat {
    uint32_t group;
    psc_str name;               /* arena copy, NUL-terminated */
    uint64_t values;            /* distinct values */
    uint64_t series;            /* calls of psc_lstats_add for this label */
    psc_str examples[PSC_CARD_MAX_EXAMPLES];
    size_t nexamples;
    uint64_t first_line;        /* line of the first series with the label */
    uint64_t id_values;         /* distinct values that look like ids */
    psc_value_kind id_kind;     /* kind of the first id-like value */
    psc_str id_example;
    uint64_t id_line;
    uint64_t exceed_line;       /* line where `values` first exceeded the threshold; 0 never */
} psc_lstat;

typedef struct psc_lstats_val {
    const char *ptr;
    uint32_t len;
    uint32_t item;
} psc_lstats_val;

typedef struct psc_lstats {
    psc_arena arena;
    psc_lstat *items;
    size_t count, cap;
    psc_hidx idx;               /* (group, name) -> items */
    psc_lstats_val *vals;
    size_t nvals, capvals;
    psc_hidx vidx;              /* (item, value) -> vals */
    uint64_t seed;
    uint64_t threshold;         /* for exceed_line; 0 = none */
    /* the item and last value of recently passed name pointers: a model
     * passes the same interned name and value copies for series after
     * series; valid until psc_lstats_forget() */
    struct psc_lstats_memo {
        const char *nptr;
        size_t nlen;
        uint32_t group, item;
        const char *vptr;
        size_t vlen;
    } memo[64];
} psc_lstats;

void psc_lstats_init(psc_lstats *s, uint64_t threshold);
void psc_lstats_release(psc_lstats *s);

/* Record that a series in `group` at input line `line` carries label
 * name=value. 0 on success, -1 when out of memory. The labels `le` and
 * `quantile` are counted but never classified as ids. Values longer than
 * 4 GiB are counted by their first 4 GiB. */
int psc_lstats_add(psc_lstats *s, uint32_t group, psc_str name, psc_str value, uint64_t line);

/* Forget the pointers psc_lstats_add() has seen: call it before passing
 * strings of another model, or whenever strings passed before may have
 * been freed or changed (pointer and length identify a string between two
 * calls of this). */
void psc_lstats_forget(psc_lstats *s);

#endif
