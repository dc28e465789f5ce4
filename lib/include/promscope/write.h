/*
 * promscope/write.h - serializers: Prometheus text 0.0.4 (1.0.0 quoting when
 * a name needs it), OpenMetrics 1.0, and JSON in prom2json's schema.
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
 * Output callback: write @p len bytes; return 0 on success, non-zero to
 * abort the serialisation (psc_model_write then returns PSC_E_IO).
 */
typedef int (*psc_write_fn)(void *ctx, const char *data, size_t len);

/**
 * Serialise @p m in format @p f through @p fn.
 *
 * Output is canonical: families and samples in model order, escaping per
 * the target format, numbers as the shortest text that round-trips
 * (psc_format_double), so converting converted output again gives the same
 * bytes.
 * @return PSC_OK; PSC_E_IO when @p fn failed; PSC_E_UNSUPPORTED with code
 *         PSC_C_NOT_EXPRESSIBLE when the model cannot be expressed in @p f
 *         (e.g. gauge `x` and counter `x_total` both become OpenMetrics
 *         family `x`): the message names both families; PSC_E_NOMEM.
 */
PSC_API psc_status psc_model_write(const psc_model *m, psc_out_format f, psc_write_fn fn,
                                   void *ctx, psc_error *err);

/**
 * Shortest decimal text that parses back to exactly @p v: "+Inf", "-Inf",
 * "NaN", otherwise like Go's strconv.FormatFloat(v, 'g', -1, 64) but with
 * exponent form only when the exponent is < -4 or >= 21 (e.g. "1", "0.25",
 * "1e+21", "1e-05"). Locale-independent. Writes a NUL-terminated string
 * into @p buf (at least 32 bytes) and returns its length.
 */
PSC_API size_t psc_format_double(double v, char buf[32]);

#ifdef __cplusplus
}
#endif
#endif
