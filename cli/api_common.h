/*
 * cli/api_common.h - what the commands that ask a Prometheus server share
 * (query, series, labels, label-values, metadata, targets, report,
 * cardinality --server): the --server option, the client, times and steps,
 * number and duration text, warnings, tables and CSV.
 */
#ifndef PROMSCOPE_CLI_API_COMMON_H
#define PROMSCOPE_CLI_API_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "netopts.h"
#include "promscope/promapi.h"

/* getopt_long values 4000..4019 belong to the API commands' own options. */
#define API_OPT_SERVER 4000
#define API_SERVER_OPTION {"server", required_argument, NULL, API_OPT_SERVER}
#define API_SERVER_HELP                                                                            \
    "  --server URL          Prometheus API server (else $PROMETHEUS_URL, else\n"                  \
    "                        http://localhost:9090)\n"

/* Output forms. */
enum api_output { API_OUT_DEFAULT = 0, API_OUT_TABLE, API_OUT_JSON, API_OUT_CSV, API_OUT_CHART };
/* Parse --output; `allowed` is a bit set of (1 << API_OUT_x). -1 when invalid. */
int api_parse_output(const char *s, unsigned allowed, enum api_output *out);

/* The server URL: --server, else $PROMETHEUS_URL, else http://localhost:9090. */
const char *api_server_url(const char *flag);

/* Create the client from the server URL and the net options. Prints why and
 * returns an exit code on failure, 0 on success. */
int api_open(const char *server_flag, struct cli_net_opts *net, const char *cmd, psc_api_client **out);

/* Print a failed API call: "promscope: SERVER: MESSAGE" (escaped). Returns
 * the exit code for the status (EXIT_USAGE for PSC_E_ARG, else EXIT_RUNTIME). */
int api_fail(const psc_api_client *c, const psc_error *err);

/* Print warnings and infos of an answer on stderr: the first 20, then
 * "N more" (BAD-INPUTS G10). Honours -q. */
void api_print_notes(const psc_str *w, size_t nw, const psc_str *i, size_t ni);

/* Parse a time: RFC 3339 (2024-05-01T12:00:00Z, offsets, fractions),
 * Unix seconds (1714564800, 1714564800.5), or relative to now: "now",
 * "-1h", "now-1h", "now+30m". 0 on success. */
int api_parse_time(const char *s, double now, double *out);
double api_now(void);

/* The default step of a range: range/200 rounded up to a round duration
 * (1s 2s 5s 10s 15s 30s 1m 2m 5m 10m 15m 30m 1h 2h 3h 6h 12h 1d ...). */
double api_default_step(double range_s);

/* Text of a value as Prometheus writes it: shortest round-trip form,
 * NaN, +Inf, -Inf. */
void api_fmt_value(char *buf, size_t cap, double v);
/* Human duration of a value in seconds: "1.25ms", "250ms", "1.5s", "2m5s"
 * (4 significant digits); NaN/Inf as api_fmt_value. */
void api_fmt_duration(char *buf, size_t cap, double seconds);
/* A value for a table: %.4g-style short form ("0.1235", "1.235e+06"). */
void api_fmt_short(char *buf, size_t cap, double v);
/* Unix seconds as the API writes them: "1700001807", "1700001807.5". */
void api_fmt_unix(char *buf, size_t cap, double t);
/* RFC 3339 UTC with milliseconds when not whole seconds. */
void api_fmt_time(char *buf, size_t cap, double t);

/* JSON number or null (NaN, Inf). */
void api_json_number(FILE *f, double v);
/* {"name":"value",...} */
void api_json_labels(FILE *f, const psc_api_labelset *ls);
/* A label set as {a="x", b="y"}, escaped for a terminal; without __name__
 * when skip_name (then prefixed with the name). */
void api_print_labelset(FILE *f, const psc_api_labelset *ls);

/* ---- tables ---- */
struct api_table {
    size_t ncols;
    char **head;
    bool *right;    /* right-aligned column */
    char **cells;   /* nrows * ncols, owned, already escaped */
    size_t nrows, cap;
};
int api_table_init(struct api_table *t, size_t ncols);
/* Set header of column i (copied). */
int api_table_head(struct api_table *t, size_t i, const char *text, bool right);
/* Append a row; returns its index, or -1 when out of memory. */
long api_table_row(struct api_table *t);
/* Set cell text (copied; control characters escaped for a terminal). */
int api_table_set(struct api_table *t, size_t row, size_t col, const char *s, size_t n);
int api_table_setz(struct api_table *t, size_t row, size_t col, const char *s);
/* Print aligned with two spaces between columns. */
void api_table_print(const struct api_table *t, FILE *f);
void api_table_release(struct api_table *t);

/* Display width of UTF-8 text in terminal columns (one per code point). */
size_t api_display_width(const char *s, size_t n);

/* CSV field (RFC 4180 quoting when needed); on a terminal, control
 * characters are escaped. */
void api_csv_field(FILE *f, const char *s, size_t n);

/* Label names used by the series of a result: the union, sorted, with
 * __name__ first; `varying` = only those whose value differs between series
 * (a label missing in some series counts as differing; a single series
 * gets all its labels). Array of psc_str
 * pointing into the result; free() it. */
psc_str *api_label_columns(const psc_api_labelset *const *sets, size_t n, bool varying, size_t *ncols);
/* Value of label `name` in ls, or NULL. */
const psc_str *api_label_get(const psc_api_labelset *ls, psc_str name);

#endif
