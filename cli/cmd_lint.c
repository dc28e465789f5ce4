/*
 * promscope lint: validate, then naming, metadata, histogram and cardinality
 * rules (lib/lint, docs/lint-rules.md). Findings are printed as text, JSON,
 * GitHub workflow commands or SARIF 2.1.0; --baseline hides known findings;
 * --config reads the same settings as the flags from a JSON file (flags win).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cli.h"
#include "commands.h"
#include "netopts.h"
#include "parse_opts.h"
#include "promscope/lint.h"

static const char lint_options[] =
    "  --format F            auto (default), text, text-0.0.4, text-1.0.0 or openmetrics\n"
    "  --output FORMAT       text (default), json, github or sarif\n"
    "  --fail-on SEVERITY    exit 1 when a finding is at least: error, warning (default) or info\n"
    "  --disable ID,...      switch rules off ('all' for every rule)\n"
    "  --enable ID,...       switch rules on again (after --disable or the config)\n"
    "  --ignore-metric REGEX leave metric families whose name matches out (POSIX extended\n"
    "                        regex, anchored at both ends; repeatable)\n"
    "  --max-series-per-metric N  series in one family (default 1000; 0 = no limit)\n"
    "  --max-label-values N  distinct values of one label in one family (default 100)\n"
    "  --max-series N        series in the whole exposition (default 10000)\n"
    "  --baseline FILE       JSON written by --output json: its findings do not count\n"
    "  --config FILE         JSON file with the settings above; flags override it\n"
    PARSE_LIMIT_OPTIONS_HELP
    NET_OPTIONS_HELP
    "  -h, --help            show this help\n"
    "\nrules (docs/lint-rules.md): parse, help-missing, base-unit, counter-total,\n"
    "non-counter-total, reserved-suffix, reserved-label, type-in-name, colon-in-name,\n"
    "camel-case, unit-abbreviation, duplicate-series, histogram-consistency,\n"
    "summary-consistency, percent-unit, info-value, reserved-label-name, untyped,\n"
    "escaping-collision, unbounded-label, max-series-per-metric, max-label-values,\n"
    "max-series\n";

enum lint_out { OUT_TEXT, OUT_JSON, OUT_GITHUB, OUT_SARIF };

struct ignore_list {
    regex_t *re;
    size_t n, cap;
};

struct lint_cfg {
    psc_lint_opts lo;
    psc_parse_opts po;
    enum lint_out out;
    psc_severity fail_on;
    struct ignore_list ign;
    char *baseline; /* malloc'd path */
};

/* ---- setters shared by flags and the config file; they return NULL on
 * success, else a message in `err` ---- */

struct err_buf {
    char text[512];
};

static const char *set_output(struct lint_cfg *c, const char *s, struct err_buf *e)
{
    if (strcmp(s, "text") == 0)
        c->out = OUT_TEXT;
    else if (strcmp(s, "json") == 0)
        c->out = OUT_JSON;
    else if (strcmp(s, "github") == 0)
        c->out = OUT_GITHUB;
    else if (strcmp(s, "sarif") == 0)
        c->out = OUT_SARIF;
    else {
        snprintf(e->text, sizeof e->text, "invalid output '%s': expected text, json, github or sarif", s);
        return e->text;
    }
    return NULL;
}

static int parse_severity(const char *s, psc_severity *out)
{
    if (strcmp(s, "error") == 0)
        *out = PSC_SEV_ERROR;
    else if (strcmp(s, "warning") == 0)
        *out = PSC_SEV_WARNING;
    else if (strcmp(s, "info") == 0)
        *out = PSC_SEV_INFO;
    else
        return -1;
    return 0;
}

static const char *set_fail_on(struct lint_cfg *c, const char *s, struct err_buf *e)
{
    if (parse_severity(s, &c->fail_on)) {
        snprintf(e->text, sizeof e->text, "invalid severity '%s': expected error, warning or info", s);
        return e->text;
    }
    return NULL;
}

static const char *set_format(struct lint_cfg *c, const char *s, struct err_buf *e)
{
    if (cli_parse_format(s, &c->po.format)) {
        snprintf(e->text, sizeof e->text,
                 "invalid format '%s': expected auto, text, text-0.0.4, text-1.0.0 or openmetrics", s);
        return e->text;
    }
    return NULL;
}

/* One rule id (or "all") switched on or off. */
static const char *set_rule(struct lint_cfg *c, const char *id, size_t n, bool on, struct err_buf *e)
{
    if (n == 3 && memcmp(id, "all", 3) == 0) {
        for (int i = 0; i < PSC_LINT__COUNT; i++)
            c->lo.enabled[i] = on;
        return NULL;
    }
    psc_lint_rule r;
    if (!psc_lint_rule_lookup((psc_str){id, n}, &r)) {
        snprintf(e->text, sizeof e->text, "unknown rule '%.*s' (see docs/lint-rules.md)", (int)(n > 100 ? 100 : n), id);
        return e->text;
    }
    c->lo.enabled[r] = on;
    return NULL;
}

/* A comma-separated list of rule ids. */
static const char *set_rules(struct lint_cfg *c, const char *s, bool on, struct err_buf *e)
{
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && (*p == ' '))
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n) {
            const char *err = set_rule(c, p, n, on, e);
            if (err)
                return err;
        } else if (!comma && p == s) {
            snprintf(e->text, sizeof e->text, "empty rule list");
            return e->text;
        }
        if (!comma)
            return NULL;
        p = comma + 1;
    }
}

static const char *add_ignore(struct lint_cfg *c, const char *s, struct err_buf *e)
{
    if (c->ign.n == c->ign.cap) {
        size_t nc = c->ign.cap ? c->ign.cap * 2 : 4;
        regex_t *nr = realloc(c->ign.re, nc * sizeof *nr);
        if (!nr) {
            snprintf(e->text, sizeof e->text, "out of memory");
            return e->text;
        }
        c->ign.re = nr;
        c->ign.cap = nc;
    }
    /* anchored at both ends, like Prometheus label matchers */
    size_t n = strlen(s);
    char *anchored = malloc(n + 5);
    if (!anchored) {
        snprintf(e->text, sizeof e->text, "out of memory");
        return e->text;
    }
    snprintf(anchored, n + 5, "^(%s)$", s);
    int rc = regcomp(&c->ign.re[c->ign.n], anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc) {
        char why[200];
        regerror(rc, &c->ign.re[c->ign.n], why, sizeof why);
        regfree(&c->ign.re[c->ign.n]);
        snprintf(e->text, sizeof e->text, "invalid regular expression '%.200s': %s", s, why);
        return e->text;
    }
    c->ign.n++;
    return NULL;
}

static const char *set_count(uint64_t *field, const char *s, struct err_buf *e)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+') {
        snprintf(e->text, sizeof e->text, "invalid count '%.100s': expected a non-negative integer", s);
        return e->text;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) {
        snprintf(e->text, sizeof e->text, "invalid count '%.100s': expected a non-negative integer", s);
        return e->text;
    }
    *field = v;
    return NULL;
}

static const char *set_baseline(struct lint_cfg *c, const char *s, struct err_buf *e)
{
    char *p = strdup(s);
    if (!p) {
        snprintf(e->text, sizeof e->text, "out of memory");
        return e->text;
    }
    free(c->baseline);
    c->baseline = p;
    return NULL;
}

static bool ignore_cb(void *ctx, const char *name, size_t len)
{
    const struct ignore_list *l = ctx;
    char small[256];
    char *copy = NULL;
    const char *s = name;
    if (strlen(name) != len || name[len] != '\0') {
        copy = len < sizeof small ? small : malloc(len + 1);
        if (!copy)
            return false;
        memcpy(copy, name, len);
        copy[len] = '\0';
        s = copy;
    }
    bool hit = false;
    for (size_t i = 0; i < l->n && !hit; i++)
        hit = regexec(&l->re[i], s, 0, NULL, 0) == 0;
    if (copy && copy != small)
        free(copy);
    return hit;
}

static void cfg_release(struct lint_cfg *c)
{
    for (size_t i = 0; i < c->ign.n; i++)
        regfree(&c->ign.re[i]);
    free(c->ign.re);
    free(c->baseline);
    memset(c, 0, sizeof *c);
}

/* ---- the config file ---- */

/* Settings with their flag names; the config uses the same keys. */
enum {
    O_FORMAT = 1000, O_OUTPUT, O_FAIL_ON, O_DISABLE, O_ENABLE, O_IGNORE, O_MAX_SPM,
    O_MAX_LV, O_MAX_SERIES, O_BASELINE, O_CONFIG, PARSE_LIMIT_OPTION_IDS
};

static int config_error(const char *file, const char *path, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* "promscope lint: FILE: PATH: MESSAGE" for a setting of the config or an
 * entry of the baseline; exit code 2 (a bad argument). */
static int config_error(const char *file, const char *path, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "promscope lint: %s: %s%s", file, path, *path ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* A string or an array of strings; calls fn for each. */
static int config_strings(struct lint_cfg *c, const char *file, const char *key, json_t *v,
                          const char *(*fn)(struct lint_cfg *, const char *, bool, struct err_buf *),
                          bool flag)
{
    struct err_buf e;
    char path[160];
    if (json_is_string(v)) {
        const char *err = fn(c, json_string_value(v), flag, &e);
        return err ? config_error(file, key, "%s", err) : 0;
    }
    if (!json_is_array(v))
        return config_error(file, key, "expected an array of strings, got %s", json_type_name(v));
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        snprintf(path, sizeof path, "%s[%zu]", key, i);
        if (!json_is_string(item))
            return config_error(file, path, "expected a string, got %s", json_type_name(item));
        const char *err = fn(c, json_string_value(item), flag, &e);
        if (err)
            return config_error(file, path, "%s", err);
    }
    return 0;
}

static const char *rules_fn(struct lint_cfg *c, const char *s, bool on, struct err_buf *e)
{
    return set_rules(c, s, on, e);
}

static const char *ignore_fn(struct lint_cfg *c, const char *s, bool unused, struct err_buf *e)
{
    (void)unused;
    return add_ignore(c, s, e);
}

static int config_count(const char *file, const char *key, json_t *v, uint64_t *field)
{
    if (!json_is_integer(v))
        return config_error(file, key, "expected a non-negative integer, got %s", json_type_name(v));
    json_int_t n = json_integer_value(v);
    if (n < 0)
        return config_error(file, key, "expected a non-negative integer, got %s", "a negative number");
    *field = (uint64_t)n;
    return 0;
}

static int config_string(const char *file, const char *key, json_t *v, const char **out)
{
    if (!json_is_string(v))
        return config_error(file, key, "expected a string, got %s", json_type_name(v));
    *out = json_string_value(v);
    return 0;
}

static int load_config(struct lint_cfg *c, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        cli_errorf("%s: %s", file, strerror(errno));
        return EXIT_RUNTIME;
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        fprintf(stderr, "promscope lint: %s:%d:%d: invalid JSON: %s\n", file, jerr.line, jerr.column,
                jerr.text);
        return EXIT_USAGE;
    }
    int rc = 0;
    if (!json_is_object(root)) {
        rc = config_error(file, "", "expected a JSON object at the top, got %s", json_type_name(root));
        goto out;
    }
    /* Order matters for the rule switches: "disable" first, then "enable". */
    json_t *v;
    if ((v = json_object_get(root, "disable")) && (rc = config_strings(c, file, "disable", v, rules_fn, false)))
        goto out;
    if ((v = json_object_get(root, "enable")) && (rc = config_strings(c, file, "enable", v, rules_fn, true)))
        goto out;
    const char *key;
    json_object_foreach(root, key, v) {
        struct err_buf e;
        const char *s = NULL, *err = NULL;
        if (strcmp(key, "disable") == 0 || strcmp(key, "enable") == 0)
            continue;
        if (strcmp(key, "format") == 0) {
            if ((rc = config_string(file, key, v, &s)))
                goto out;
            err = set_format(c, s, &e);
        } else if (strcmp(key, "output") == 0) {
            if ((rc = config_string(file, key, v, &s)))
                goto out;
            err = set_output(c, s, &e);
        } else if (strcmp(key, "fail-on") == 0) {
            if ((rc = config_string(file, key, v, &s)))
                goto out;
            err = set_fail_on(c, s, &e);
        } else if (strcmp(key, "baseline") == 0) {
            if ((rc = config_string(file, key, v, &s)))
                goto out;
            /* relative to the config file, so that a repository can keep both side by side */
            const char *slash = strrchr(file, '/');
            if (*s != '/' && slash) {
                char *p = malloc((size_t)(slash - file) + strlen(s) + 2);
                if (!p) {
                    rc = EXIT_RUNTIME;
                    goto out;
                }
                sprintf(p, "%.*s/%s", (int)(slash - file), file, s);
                free(c->baseline);
                c->baseline = p;
            } else {
                err = set_baseline(c, s, &e);
            }
        } else if (strcmp(key, "ignore-metric") == 0) {
            if ((rc = config_strings(c, file, key, v, ignore_fn, false)))
                goto out;
        } else if (strcmp(key, "max-series-per-metric") == 0) {
            if ((rc = config_count(file, key, v, &c->lo.max_series_per_metric)))
                goto out;
        } else if (strcmp(key, "max-label-values") == 0) {
            if ((rc = config_count(file, key, v, &c->lo.max_label_values)))
                goto out;
        } else if (strcmp(key, "max-series") == 0) {
            if ((rc = config_count(file, key, v, &c->lo.max_series)))
                goto out;
        } else if (strcmp(key, "severity") == 0) {
            if (!json_is_object(v)) {
                rc = config_error(file, key, "expected an object of rule ids to severities, got %s",
                                  json_type_name(v));
                goto out;
            }
            const char *rk;
            json_t *rv;
            json_object_foreach(v, rk, rv) {
                char path[200];
                snprintf(path, sizeof path, "severity.%.150s", rk);
                psc_lint_rule r;
                if (!psc_lint_rule_lookup((psc_str){rk, strlen(rk)}, &r)) {
                    rc = config_error(file, path, "unknown rule '%s'", rk);
                    goto out;
                }
                psc_severity sev;
                if (!json_is_string(rv)) {
                    rc = config_error(file, path, "expected \"error\", \"warning\" or \"info\", got %s",
                                      json_type_name(rv));
                    goto out;
                }
                if (parse_severity(json_string_value(rv), &sev)) {
                    rc = config_error(file, path, "invalid severity '%s': expected error, warning or info",
                                      json_string_value(rv));
                    goto out;
                }
                c->lo.severity[r] = sev;
            }
        } else {
            rc = config_error(file, key, "%s", "unknown setting (see 'promscope lint -h')");
            goto out;
        }
        if (err) {
            rc = config_error(file, key, "%s", err);
            goto out;
        }
    }
out:
    json_decref(root);
    return rc;
}

/* ---- the baseline ---- */

struct bl_entry {
    const char *rule, *metric, *message;
    size_t count;
};

struct baseline {
    json_t *root; /* owns the strings */
    struct bl_entry *e;
    size_t n;
    size_t hidden;
};

static int bl_cmp(const void *x, const void *y)
{
    const struct bl_entry *a = x, *b = y;
    int r = strcmp(a->rule, b->rule);
    if (!r)
        r = strcmp(a->metric, b->metric);
    if (!r)
        r = strcmp(a->message, b->message);
    return r;
}

static int load_baseline(struct baseline *bl, const char *file)
{
    memset(bl, 0, sizeof *bl);
    FILE *f = fopen(file, "r");
    if (!f) {
        cli_errorf("%s: %s", file, strerror(errno));
        return EXIT_RUNTIME;
    }
    json_error_t jerr;
    bl->root = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!bl->root) {
        fprintf(stderr, "promscope lint: %s:%d:%d: invalid JSON: %s\n", file, jerr.line, jerr.column,
                jerr.text);
        return EXIT_USAGE;
    }
    if (!json_is_array(bl->root))
        return config_error(file, "", "expected the JSON array written by 'lint --output json', got %s",
                            json_type_name(bl->root));
    size_t n = json_array_size(bl->root);
    bl->e = calloc(n ? n : 1, sizeof *bl->e);
    if (!bl->e) {
        cli_errorf("%s: out of memory", file);
        return EXIT_RUNTIME;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(bl->root, i);
        char path[64];
        snprintf(path, sizeof path, "[%zu]", i);
        if (!json_is_object(o))
            return config_error(file, path, "expected an object, got %s", json_type_name(o));
        static const char *const keys[] = {"rule", "metric", "message"};
        const char *vals[3];
        for (int k = 0; k < 3; k++) {
            json_t *s = json_object_get(o, keys[k]);
            snprintf(path, sizeof path, "[%zu].%s", i, keys[k]);
            if (!s)
                return config_error(file, path, "%s", "missing");
            if (!json_is_string(s))
                return config_error(file, path, "expected a string, got %s", json_type_name(s));
            vals[k] = json_string_value(s);
        }
        bl->e[bl->n++] = (struct bl_entry){vals[0], vals[1], vals[2], 1};
    }
    qsort(bl->e, bl->n, sizeof *bl->e, bl_cmp);
    /* merge equal entries into counts */
    size_t w = 0;
    for (size_t i = 0; i < bl->n; i++) {
        if (w && bl_cmp(&bl->e[w - 1], &bl->e[i]) == 0)
            bl->e[w - 1].count++;
        else
            bl->e[w++] = bl->e[i];
    }
    bl->n = w;
    return 0;
}

/* Is this finding in the baseline? Each baseline entry hides as many
 * findings as it occurs in the file. */
static bool bl_take(struct baseline *bl, const psc_diag *d)
{
    if (!bl->root)
        return false;
    struct bl_entry key = {d->rule, d->metric, d->message, 0};
    struct bl_entry *hit = bsearch(&key, bl->e, bl->n, sizeof *bl->e, bl_cmp);
    if (!hit || !hit->count)
        return false;
    hit->count--;
    bl->hidden++;
    return true;
}

static void bl_release(struct baseline *bl)
{
    free(bl->e);
    if (bl->root)
        json_decref(bl->root);
    memset(bl, 0, sizeof *bl);
}

/* ---- SARIF 2.1.0 ---- */

static const char *sarif_level(psc_severity s)
{
    return s == PSC_SEV_ERROR ? "error" : s == PSC_SEV_WARNING ? "warning" : "note";
}

static void sarif_begin(FILE *f, const struct lint_cfg *c)
{
    fprintf(f, "{\n \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
               " \"version\": \"2.1.0\",\n \"runs\": [{\n"
               "  \"tool\": {\"driver\": {\"name\": \"promscope\", \"version\": ");
    cli_json_string(f, psc_version(), strlen(psc_version()));
    fputs(",\n   \"rules\": [", f);
    for (int i = 0; i < PSC_LINT__COUNT; i++) {
        const char *id = psc_lint_rule_name((psc_lint_rule)i);
        const char *sum = psc_lint_rule_summary((psc_lint_rule)i);
        fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
        cli_json_string(f, id, strlen(id));
        fputs(", \"name\": ", f);
        cli_json_string(f, id, strlen(id));
        fputs(", \"shortDescription\": {\"text\": ", f);
        cli_json_string(f, sum, strlen(sum));
        fprintf(f, "}, \"defaultConfiguration\": {\"level\": \"%s\", \"enabled\": %s}}",
                sarif_level(c->lo.severity[i]), c->lo.enabled[i] ? "true" : "false");
    }
    fputs("\n   ]}},\n  \"results\": [", f);
}

/* A SARIF artifact URI: URLs as they are, absolute paths as file:// URIs,
 * relative paths as relative references; bytes outside the unreserved set
 * and '/' are percent-encoded. */
static void sarif_uri(FILE *f, const char *source)
{
    char buf[4096];
    size_t n = 0;
    bool url = cli_is_url(source);
    if (!url && source[0] == '/') {
        memcpy(buf, "file://", 7);
        n = 7;
    }
    for (const unsigned char *p = (const unsigned char *)source; *p && n + 4 < sizeof buf; p++) {
        unsigned ch = *p;
        bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/' ||
                    (url && strchr(":?#[]@!$&'()*+,;=%", (int)ch) && ch);
        if (keep)
            buf[n++] = (char)ch;
        else
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%%%02X", ch);
    }
    cli_json_string(f, buf, n);
}

static size_t sarif_results(FILE *f, size_t printed, const char *source, const psc_diag_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        const psc_diag *d = &l->items[i];
        psc_lint_rule r = PSC_LINT_PARSE;
        psc_lint_rule_lookup((psc_str){d->rule, strlen(d->rule)}, &r);
        fprintf(f, "%s\n   {\"ruleId\": ", printed ? "," : "");
        cli_json_string(f, d->rule, strlen(d->rule));
        fprintf(f, ", \"ruleIndex\": %d, \"level\": \"%s\", \"message\": {\"text\": ", (int)r,
                sarif_level(d->severity));
        cli_json_string(f, d->message, strlen(d->message));
        fputs("},\n    \"locations\": [{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", f);
        sarif_uri(f, source);
        fputc('}', f);
        if (d->line) {
            fprintf(f, ", \"region\": {\"startLine\": %llu", (unsigned long long)d->line);
            if (d->column)
                fprintf(f, ", \"startColumn\": %llu", (unsigned long long)d->column);
            fputc('}', f);
        }
        fputs("}}],\n    \"properties\": {\"metric\": ", f);
        cli_json_string(f, d->metric, strlen(d->metric));
        fputs("}}", f);
        printed++;
    }
    return printed;
}

static void sarif_end(FILE *f, size_t printed)
{
    fputs(printed ? "\n  ]\n }]\n}\n" : "]\n }]\n}\n", f);
}

/* ---- the command ---- */

struct tally {
    size_t n[3]; /* by psc_severity */
};

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* A regular file linted without holding it: read through cli_stream while
 * the offsets of its line starts are recorded (8 bytes a line), then the
 * lines that findings point into are read back with pread. */
struct line_src {
    struct cli_stream s;
    uint64_t *starts; /* starts[k]: offset of line k+1 */
    size_t n, cap;
    uint64_t off;     /* bytes read so far */
    bool nomem;
    char *line;
    size_t line_cap;
};

/* Record the line start after the '\n' at offset i of the chunk; false
 * when out of memory (columns are then 0). */
static bool src_line_start(struct line_src *ls, size_t i)
{
    if (ls->n == ls->cap) {
        size_t nc = ls->cap ? ls->cap * 2 : 4096;
        uint64_t *ns = realloc(ls->starts, nc * sizeof *ns);
        if (!ns) {
            ls->nomem = true;
            return false;
        }
        ls->starts = ns;
        ls->cap = nc;
    }
    ls->starts[ls->n++] = ls->off + (uint64_t)i + 1;
    return true;
}

static long src_read(void *ctx, char *buf, size_t cap, psc_error *err)
{
    struct line_src *ls = ctx;
    long r = cli_stream_read(&ls->s, buf, cap, err);
    size_t i = 0, n = r > 0 ? (size_t)r : 0;
    if (ls->nomem)
        n = 0;
#ifdef __SSE2__
    /* 16 bytes a step: a line is about as long as a memchr call costs */
    const __m128i nl = _mm_set1_epi8('\n');
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, nl));
        for (; m; m &= m - 1)
            if (!src_line_start(ls, i + (size_t)__builtin_ctz(m)))
                goto done;
    }
#endif
    for (; i < n; i++)
        if (buf[i] == '\n' && !src_line_start(ls, i))
            break;
#ifdef __SSE2__
done:
#endif
    if (r > 0)
        ls->off += (uint64_t)r;
    return r;
}

static bool src_line(void *ctx, uint64_t line, const char **p, size_t *n)
{
    struct line_src *ls = ctx;
    if (ls->nomem || line == 0 || line > ls->n + 1)
        return false;
    uint64_t start = line == 1 ? 0 : ls->starts[line - 2];
    uint64_t end = line <= ls->n ? ls->starts[line - 1] - 1 : ls->off;
    size_t len = (size_t)(end - start);
    if (len > (64u << 20))
        return false;
    if (len + 1 > ls->line_cap) {
        char *nl = realloc(ls->line, len + 1);
        if (!nl)
            return false;
        ls->line = nl;
        ls->line_cap = len + 1;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(ls->s.fd, ls->line + got, len - got, (off_t)(start + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    if (len && ls->line[len - 1] == '\r')
        len--;
    *p = ls->line;
    *n = len;
    return true;
}

/* Lint INPUT arg into diags: regular files streamed (src_read, src_line),
 * stdin and URLs loaded whole. EXIT_OK with *st the lint status, or
 * EXIT_RUNTIME after printing why the input could not be read; *source
 * receives its display name (owned). */
static int lint_input(const char *arg, const struct cli_net_opts *net, const psc_parse_opts *popts,
                      const psc_lint_opts *lo, psc_diag_list *diags, psc_status *st, char **source)
{
    psc_parse_opts po = *popts;
    *source = NULL;
    if (!cli_is_url(arg) && strcmp(arg, "-") != 0) {
        struct line_src ls;
        memset(&ls, 0, sizeof ls);
        if (cli_stream_open(arg, net, &ls.s) != EXIT_OK) {
            cli_stream_close(&ls.s);
            return EXIT_RUNTIME;
        }
        if (!ls.s.capped) {
            if (po.format == PSC_FORMAT_AUTO)
                po.format = ls.s.format;
            psc_error err;
            psc_error_clear(&err);
            *st = psc_lint_stream(src_read, &ls, src_line, &ls, &po, lo, diags, &err);
            *source = ls.s.source;
            ls.s.source = NULL;
            cli_stream_close(&ls.s);
            free(ls.starts);
            free(ls.line);
            if (*st == PSC_E_IO) {
                cli_errorf("%s: %s", *source, err.message);
                return EXIT_RUNTIME;
            }
            return EXIT_OK;
        }
        cli_stream_close(&ls.s); /* a device or a FIFO: loaded below */
    }
    struct cli_input in;
    if (cli_input_load(arg, net, &in) != EXIT_OK) {
        cli_input_release(&in);
        return EXIT_RUNTIME;
    }
    if (po.format == PSC_FORMAT_AUTO)
        po.format = in.format;
    *st = psc_lint_buffer(in.data, in.len, &po, lo, diags);
    *source = in.source;
    in.source = NULL;
    cli_input_release(&in);
    return EXIT_OK;
}

int cmd_lint(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("lint");
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"output", required_argument, NULL, O_OUTPUT},
        {"fail-on", required_argument, NULL, O_FAIL_ON},
        {"disable", required_argument, NULL, O_DISABLE},
        {"enable", required_argument, NULL, O_ENABLE},
        {"ignore-metric", required_argument, NULL, O_IGNORE},
        {"max-series-per-metric", required_argument, NULL, O_MAX_SPM},
        {"max-label-values", required_argument, NULL, O_MAX_LV},
        {"max-series", required_argument, NULL, O_MAX_SERIES},
        {"baseline", required_argument, NULL, O_BASELINE},
        {"config", required_argument, NULL, O_CONFIG},
        PARSE_LIMIT_OPTIONS,
        NET_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct lint_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    psc_lint_opts_init(&cfg.lo);
    psc_parse_opts_init(&cfg.po);
    cfg.fail_on = PSC_SEV_WARNING;
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    struct baseline bl;
    memset(&bl, 0, sizeof bl);

    /* Pass 1: collect the flags (the config file, wherever it appears on
     * the command line, is applied first; the flags then override it). */
    struct flag {
        int id;
        const char *arg;
    } *flags = calloc((size_t)argc + 1, sizeof *flags);
    size_t nflags = 0;
    const char *config = NULL;
    int c, rc = EXIT_OK;
    if (!flags) {
        cli_errorf("out of memory");
        return EXIT_RUNTIME;
    }
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_command_help(stdout, self, lint_options);
            rc = cli_finish(EXIT_OK);
            goto done;
        }
        if (c == O_CONFIG) {
            config = optarg;
            continue;
        }
        if (c >= NET_OPTION_FIRST && c <= NET_OPTION_LAST) {
            if ((rc = cli_parse_net_option(c, optarg, &net, "lint")) != 0)
                goto done;
            continue;
        }
        bool known = (c >= O_FORMAT && c < O_CONFIG) || (c >= O_MAX_LINE_BYTES && c <= O_ALLOW_BOM);
        if (!known) {
            rc = cli_usage_error("lint", "unknown or incomplete option '%s'", argv[optind - 1]);
            goto done;
        }
        flags[nflags++] = (struct flag){c, optarg};
    }
    if (optind >= argc) {
        rc = cli_usage_error("lint", "missing INPUT (a path, '-' for stdin, or a URL)");
        goto done;
    }
    if (config && (rc = load_config(&cfg, config)) != 0)
        goto done;
    for (size_t i = 0; i < nflags; i++) {
        struct err_buf e;
        const char *err = NULL, *arg = flags[i].arg;
        switch (flags[i].id) {
        case O_FORMAT: err = set_format(&cfg, arg, &e); break;
        case O_OUTPUT: err = set_output(&cfg, arg, &e); break;
        case O_FAIL_ON: err = set_fail_on(&cfg, arg, &e); break;
        case O_DISABLE: err = set_rules(&cfg, arg, false, &e); break;
        case O_ENABLE: err = set_rules(&cfg, arg, true, &e); break;
        case O_IGNORE: err = add_ignore(&cfg, arg, &e); break;
        case O_MAX_SPM: err = set_count(&cfg.lo.max_series_per_metric, arg, &e); break;
        case O_MAX_LV: err = set_count(&cfg.lo.max_label_values, arg, &e); break;
        case O_MAX_SERIES: err = set_count(&cfg.lo.max_series, arg, &e); break;
        case O_BASELINE: err = set_baseline(&cfg, arg, &e); break;
        default:
            if ((rc = cli_parse_limit_option(flags[i].id, arg, &cfg.po, "lint")) > 0)
                goto done;
            break;
        }
        if (err) {
            const char *name = "?";
            for (const struct option *o = opts; o->name; o++)
                if (o->val == flags[i].id)
                    name = o->name;
            rc = cli_usage_error("lint", "--%s: %s", name, err);
            goto done;
        }
    }
    if (cfg.ign.n) {
        cfg.lo.ignore = ignore_cb;
        cfg.lo.ignore_ctx = &cfg.ign;
    }
    if (cfg.baseline && (rc = load_baseline(&bl, cfg.baseline)) != 0)
        goto done;
    if ((rc = cli_net_opts_finish(&net, "lint")) != 0)
        goto done;

    int status = EXIT_OK;
    struct tally t = {{0, 0, 0}};
    size_t not_linted = 0; /* inputs that could not be read or parsed to the end */
    struct cli_diag_printer pr;
    size_t sarif_printed = 0;
    if (cfg.out == OUT_SARIF)
        sarif_begin(stdout, &cfg);
    else
        cli_diag_begin(&pr, stdout,
                       cfg.out == OUT_JSON ? CLI_DIAG_JSON : cfg.out == OUT_GITHUB ? CLI_DIAG_GITHUB : CLI_DIAG_TEXT);
    for (int i = optind; i < argc; i++) {
        char *source = NULL;
        psc_diag_list diags;
        psc_diag_list_init(&diags);
        psc_status st;
        if (lint_input(argv[i], &net, &cfg.po, &cfg.lo, &diags, &st, &source) != EXIT_OK) {
            free(source);
            psc_diag_list_release(&diags);
            status = EXIT_RUNTIME;
            not_linted++;
            continue;
        }
        if (st != PSC_OK) {
            cli_errorf("%s: %s", source, st == PSC_E_NOMEM ? "out of memory" : psc_status_name(st));
            status = EXIT_RUNTIME;
            not_linted++;
        } else {
            /* a shallow copy without the baselined findings; the strings stay owned by diags */
            psc_diag_list shown = diags;
            shown.items = malloc((diags.count ? diags.count : 1) * sizeof *shown.items);
            if (!shown.items) {
                cli_errorf("%s: out of memory", source);
                status = EXIT_RUNTIME;
                not_linted++;
            } else {
                size_t kept[3] = {0, 0, 0};
                shown.count = 0;
                for (size_t k = 0; k < diags.count; k++) {
                    const psc_diag *d = &diags.items[k];
                    if (bl_take(&bl, d))
                        continue;
                    shown.items[shown.count++] = *d;
                    kept[d->severity]++;
                }
                size_t all_err = 0, all_warn = 0;
                for (size_t k = 0; k < diags.count; k++) {
                    all_err += diags.items[k].severity == PSC_SEV_ERROR;
                    all_warn += diags.items[k].severity == PSC_SEV_WARNING;
                }
                /* findings past the list's cap were counted but not kept */
                size_t drop_err = diags.nerrors - all_err, drop_warn = diags.nwarnings - all_warn;
                t.n[PSC_SEV_ERROR] += kept[PSC_SEV_ERROR] + drop_err;
                t.n[PSC_SEV_WARNING] += kept[PSC_SEV_WARNING] + drop_warn;
                t.n[PSC_SEV_INFO] += kept[PSC_SEV_INFO] + (diags.dropped - drop_err - drop_warn);
                shown.nerrors = kept[PSC_SEV_ERROR] + drop_err;
                shown.nwarnings = kept[PSC_SEV_WARNING] + drop_warn;
                if (cfg.out == OUT_SARIF)
                    sarif_printed = sarif_results(stdout, sarif_printed, source, &shown);
                else
                    cli_diag_print(&pr, source, &shown);
                free(shown.items);
            }
        }
        psc_diag_list_release(&diags);
        free(source);
    }
    if (cfg.out == OUT_SARIF)
        sarif_end(stdout, sarif_printed);
    else
        cli_diag_end(&pr);

    size_t total = t.n[0] + t.n[1] + t.n[2];
    FILE *sf = cfg.out == OUT_TEXT ? stdout : (g_cli.quiet ? NULL : stderr);
    if (sf) {
        fprintf(sf, "%s%zu %s (%zu %s, %zu %s, %zu info)", sf == stderr ? "promscope lint: " : "", total,
                plural(total, "problem", "problems"), t.n[PSC_SEV_ERROR],
                plural(t.n[PSC_SEV_ERROR], "error", "errors"), t.n[PSC_SEV_WARNING],
                plural(t.n[PSC_SEV_WARNING], "warning", "warnings"), t.n[PSC_SEV_INFO]);
        if (bl.hidden)
            fprintf(sf, "; %zu hidden by the baseline", bl.hidden);
        /* "0 problems" alone would read as a clean result */
        if (not_linted)
            fprintf(sf, "; %zu %s not linted", not_linted, plural(not_linted, "input", "inputs"));
        fputc('\n', sf);
    }
    if (status == EXIT_OK) {
        size_t failing = 0;
        for (int s = (int)cfg.fail_on; s <= PSC_SEV_ERROR; s++)
            failing += t.n[s];
        if (failing)
            status = EXIT_FINDINGS;
    }
    rc = cli_finish(status);
done:
    free(flags);
    bl_release(&bl);
    cfg_release(&cfg);
    cli_net_opts_release(&net);
    return rc;
}
