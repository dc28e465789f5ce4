/*
 * promscope/diag.h - diagnostics as data: the findings of validate and lint.
 *
 * A diagnostic is printed by the CLI as
 *   SOURCE:LINE:COLUMN: SEVERITY: MESSAGE [RULE-ID]
 * (DESIGN.md section 3). The library only collects them.
 */
#ifndef PROMSCOPE_DIAG_H
#define PROMSCOPE_DIAG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum psc_severity {
    PSC_SEV_INFO = 0,
    PSC_SEV_WARNING = 1,
    PSC_SEV_ERROR = 2,
} psc_severity;

/** "info", "warning" or "error". Static storage. */
PSC_API const char *psc_severity_name(psc_severity s);

/** One finding. All strings are owned by the psc_diag_list that holds it. */
typedef struct psc_diag {
    psc_severity severity;
    const char *rule;   /**< stable id: a psc_code_name() or a lint rule id */
    char *metric;       /**< metric or family name concerned, "" if none; NUL-terminated (NUL bytes in names are escaped) */
    char *message;      /**< lowercase, no final period, control characters escaped */
    uint64_t offset;    /**< 0-based byte offset */
    uint64_t line;      /**< 1-based; 0 = whole input */
    uint64_t column;    /**< 1-based byte column; 0 = whole line */
} psc_diag;

/**
 * A growable list of diagnostics. Zero-initialise (`psc_diag_list l = {0};`)
 * or call psc_diag_list_init(); release with psc_diag_list_release().
 */
typedef struct psc_diag_list {
    psc_diag *items;
    size_t count;
    size_t cap;
    size_t nerrors;       /**< how many have severity PSC_SEV_ERROR */
    size_t nwarnings;
    size_t max;           /**< stop recording after this many (0 = 10000); `dropped` counts the rest */
    size_t dropped;
} psc_diag_list;

PSC_API void psc_diag_list_init(psc_diag_list *l);
PSC_API void psc_diag_list_release(psc_diag_list *l);

/**
 * Append a diagnostic; @p metric may be NULL. @p fmt is printf-style.
 * Copies all strings. Returns PSC_OK or PSC_E_NOMEM (the list is unchanged).
 * Past the list's `max`, the diagnostic is counted in `dropped` and PSC_OK
 * is returned.
 */
PSC_API psc_status psc_diag_add(psc_diag_list *l, psc_severity sev, const char *rule,
                                psc_str metric, uint64_t offset, uint64_t line,
                                uint64_t column, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 8, 9)))
#endif
    ;

/** Append a copy of a parser error as an error diagnostic. */
PSC_API psc_status psc_diag_add_error(psc_diag_list *l, const psc_error *err, psc_str metric);

/** Stable sort by (line, column, insertion order). */
PSC_API void psc_diag_list_sort(psc_diag_list *l);

#ifdef __cplusplus
}
#endif
#endif
