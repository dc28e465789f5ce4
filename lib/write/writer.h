/* Internal: what the serializers of lib/write share. */
#ifndef PSC_WRITE_WRITER_H
#define PSC_WRITE_WRITER_H

#include <stdarg.h>

#include "promscope/write.h"
#include "util/buf.h"

/* Buffered output through the caller's psc_write_fn. After the first
 * failure of the callback every later write is dropped. */
typedef struct wout {
    psc_write_fn fn;
    void *ctx;
    int failed;
    size_t len;
    char buf[16384];
} wout;

void wo_init(wout *w, psc_write_fn fn, void *ctx);
void wo_put(wout *w, const char *p, size_t n);
void wo_puts(wout *w, const char *s);
void wo_putc(wout *w, char c);
/* Hand the buffered bytes to the callback; 0 on success. */
int wo_flush(wout *w);

/* The view of a model family in the Prometheus text and JSON outputs: an
 * OpenMetrics family may become up to three text families (a counter's
 * `_created` samples a gauge of their own, a gaugehistogram three gauges;
 * docs/convert.md "Type mapping"). */
typedef enum part_sel {
    SEL_ALL,
    SEL_NOT_CREATED,
    SEL_CREATED,
    SEL_BUCKET,
    SEL_GCOUNT,
    SEL_GSUM,
} part_sel;

typedef enum json_shape {
    SHAPE_METRIC,     /* one object per sample: {labels, timestamp_ms, value} */
    SHAPE_HISTOGRAM,  /* {labels, timestamp_ms, buckets, count, sum} */
    SHAPE_SUMMARY,    /* {labels, timestamp_ms, quantiles, count, sum} */
} json_shape;

typedef struct part {
    psc_str base;
    const char *suffix;   /* appended to base: the output family name */
    const char *text_type;
    const char *json_type;
    json_shape shape;
    part_sel sel;
    bool always;          /* written even without selected samples (carries the metadata) */
} part;

/* Parts of family f for the text (json == false) or JSON output. */
size_t psc_text_parts(const psc_model *m, const psc_family *f, bool json, part out[3]);
bool psc_part_selects(part_sel sel, psc_sample_kind k);
/* Does family f have a sample selected by sel? */
bool psc_part_has_samples(const psc_family *f, part_sel sel);

/* Fill err (optional) and return st. */
psc_status psc_write_fail(psc_error *err, psc_status st, psc_code code, uint64_t line,
                          const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* A name for messages: at most 120 bytes of s, then "...". */
const char *psc_msg_name(char buf[128], psc_str s);

/* Timestamps in the text and JSON outputs are int64 milliseconds: fail
 * with PSC_C_NOT_EXPRESSIBLE on the first sample of an OpenMetrics model
 * whose timestamp is not a whole number of milliseconds. */
psc_status psc_check_ms_timestamps(const psc_model *m, const char *target, psc_error *err);

psc_status psc_write_json(const psc_model *m, wout *w, psc_error *err);

#endif
