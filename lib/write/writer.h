/* Internal: what the serializers of lib/write share. */
#ifndef PSC_WRITE_WRITER_H
#define PSC_WRITE_WRITER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "promscope/write.h"
#include "util/buf.h"

/* A bound (le, quantile) as rendered once: the same few bounds repeat on
 * every series of a histogram or summary. */
typedef struct wbound {
    uint64_t bits;  /* of the double */
    uint8_t form;   /* WB_TEXT or WB_OM */
    uint8_t len;    /* 0: empty slot */
    char text[32];  /* psc_format_double(_om): at most 26 bytes and a NUL */
} wbound;

enum { WB_TEXT = 1, WB_OM = 2, WB_SLOTS = 64 };

/* Whether a name is in the legacy character set, remembered by its bytes'
 * address and length: the model keeps one copy of each name, so the same
 * name comes back at the same address (the model is not changed while it
 * is written, so a hit is always right). */
typedef struct wname {
    const char *ptr;
    size_t len;
    bool label;     /* the label-name rule (no ':') */
    bool legacy;
} wname;

enum { WN_SLOTS = 128 };

/* Buffered output through the caller's psc_write_fn. After the first
 * failure of the callback every later write is dropped. */
typedef struct wout {
    psc_write_fn fn;
    void *ctx;
    int failed;
    size_t len;
    unsigned long nflush;   /* calls of wo_flush: did the buffer move? */
    wbound bound[WB_SLOTS];
    wname names[WN_SLOTS];
    /* The samples of a metric share one label array: its rendering in the
     * text formats (`a="x",b="y"`), written for the last array. */
    const psc_label *lab_ptr;
    size_t lab_n, lab_len;
    /* the last label array whose names are all legacy label names */
    const psc_label *legacy_ptr;
    size_t legacy_n;
    char lab_text[2048];
    char buf[16384];
} wout;

void wo_init(wout *w, psc_write_fn fn, void *ctx);
/* The slow paths of the inline functions below. */
void wo_put_slow(wout *w, const char *p, size_t n);
void wo_puts(wout *w, const char *s);
/* Hand the buffered bytes to the callback; 0 on success. The buffer is
 * empty afterwards (bytes after a failure are dropped). */
int wo_flush(wout *w);

static inline void wo_put(wout *w, const char *p, size_t n)
{
    if (n - 1 < sizeof w->buf - w->len) { /* n > 0 and it fits */
        memcpy(w->buf + w->len, p, n);
        w->len += n;
    } else if (n) {
        wo_put_slow(w, p, n);
    }
}

static inline void wo_putc(wout *w, char c)
{
    if (w->len == sizeof w->buf)
        wo_flush(w);
    w->buf[w->len++] = c;
}

/* Room for n <= sizeof buf contiguous bytes at the end of the buffer: write
 * at most n bytes at the pointer returned, then add their count to len. */
static inline char *wo_room(wout *w, size_t n)
{
    if (sizeof w->buf - w->len < n)
        wo_flush(w);
    return w->buf + w->len;
}

/* The bound v as psc_format_double (form WB_TEXT) or
 * psc_format_double_om (WB_OM) renders it, from the table when it was
 * rendered before. Returns the text (NUL-terminated) and its length. */
const char *wo_bound(wout *w, double v, int form, size_t *len);

/* Is s a legacy metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, label false) or
 * label name ([a-zA-Z_][a-zA-Z0-9_]*, label true)? */
bool wo_legacy_name(wout *w, psc_str s, bool label);

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
