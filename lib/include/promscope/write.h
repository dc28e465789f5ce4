/*
 * promscope/write.h - serializers: Prometheus text 0.0.4 (1.0.0 quoting when
 * a name needs it), OpenMetrics 1.0, and JSON in prom2json's schema.
 * docs/convert.md describes the output and the type mapping.
 */
#ifndef PROMSCOPE_WRITE_H
#define PROMSCOPE_WRITE_H

#include "common.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum psc_out_format {
    PSC_OUT_TEXT = 0,    /**< Prometheus text 0.0.4; quoted names (1.0.0) only when needed */
    PSC_OUT_OPENMETRICS, /**< OpenMetrics 1.0 text, ending with `# EOF` */
    PSC_OUT_JSON,        /**< prom2json schema */
} psc_out_format;

/** "text", "openmetrics", "json". */
PSC_API const char *psc_out_format_name(psc_out_format f);

/**
 * Output callback: write @p len bytes (never 0) at @p data; return 0 on
 * success, non-zero to abort the serialisation (psc_model_write then
 * returns PSC_E_IO). @p data is valid only during the call.
 */
typedef int (*psc_write_fn)(void *ctx, const char *data, size_t len);

/**
 * Serialise @p m in format @p f through @p fn.
 *
 * Formats: Prometheus text 0.0.4 (reference/exposition_formats.md "Text
 * format details"), with the quoted names of text 1.0.0 only for a name
 * outside the legacy character set; OpenMetrics 1.0
 * (reference/OpenMetrics-1.0.md "Text format"), ending with `# EOF`; JSON in
 * the schema of prom2json. Types are mapped between the formats as
 * docs/convert.md "Type mapping" describes (text counter `x_total` <->
 * OpenMetrics counter `x`, OpenMetrics `_created` samples -> a text gauge
 * `x_created` and back, info -> gauge `x_info`, ...).
 *
 * Output is canonical: families and samples in model order, escaping per
 * the target format, numbers as the shortest text that round-trips
 * (psc_format_double), le/quantile values re-rendered in the target's
 * canonical form, so converting converted output again gives the same
 * bytes. The whole model is checked before the first byte is written: on
 * PSC_E_UNSUPPORTED nothing was written.
 *
 * Exemplars exist only in OpenMetrics: the text and JSON writers drop them
 * silently (count the samples whose exemplar is not NULL to tell the
 * user); UNIT lines are dropped the same way.
 *
 * @param m    the model; not NULL (PSC_E_ARG).
 * @param f    the target format.
 * @param fn   output callback; called with pieces of at most 16 KiB, or
 *             longer ones for a single long string; not NULL (PSC_E_ARG).
 * @param ctx  passed to @p fn.
 * @param err  optional; on failure: status, code, message, and for
 *             PSC_E_UNSUPPORTED the 1-based input line of the offending
 *             sample or family (line 0: none).
 * @return PSC_OK; PSC_E_IO when @p fn failed (code PSC_C_IO);
 *         PSC_E_UNSUPPORTED with code PSC_C_NOT_EXPRESSIBLE when the model
 *         cannot be expressed in @p f: for OpenMetrics two families that
 *         become one family or claim the same sample names (e.g. gauge
 *         `x` and counter `x_total` both become OpenMetrics family `x`; the
 *         message names both families), names outside the legacy character
 *         set, values OpenMetrics forbids (negative or NaN counters,
 *         fractional bucket counts, a histogram with only one of _count and
 *         _sum); for text and JSON an OpenMetrics timestamp that is not a
 *         whole number of milliseconds; for text several points of one
 *         series; PSC_E_NOMEM (nothing or part of the output written);
 *         PSC_E_ARG.
 * Memory: a 16 KiB buffer and, for OpenMetrics from a text model, O(families
 * + metrics) for the name checks. Reads @p m only: one model may be written
 * from several threads at once.
 */
PSC_API psc_status psc_model_write(const psc_model *m, psc_out_format f, psc_write_fn fn,
                                   void *ctx, psc_error *err);

/**
 * Shortest decimal text that parses back to exactly @p v, exactly as Go's
 * strconv.FormatFloat(v, 'g', -1, 64) writes it (and so expfmt and
 * fmt.Sprint): "+Inf", "-Inf", "NaN", "0", "-0"; otherwise the shortest
 * digits that round-trip (of several, the one nearest to @p v), in exponent
 * form when the decimal exponent is < -4 or >= 6 ("1", "0.25", "0.0001",
 * "1e-05", "123456", "1.234567e+06", "5e-324", "1.7976931348623157e+308").
 *
 * Locale-independent: the digits come from integer arithmetic on the bits
 * of @p v, never from printf/strtod, so the result is the same after the
 * host program called setlocale(LC_ALL, "de_DE.UTF-8"). Thread-safe.
 *
 * @param v    any double.
 * @param buf  receives the NUL-terminated text; at least 32 bytes (the
 *             longest result, "-1.7976931348623157e+308", is 24).
 * @return the length of the text, without the NUL.
 */
PSC_API size_t psc_format_double(double v, char buf[32]);

#ifdef __cplusplus
}
#endif
#endif
