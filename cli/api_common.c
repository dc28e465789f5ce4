/* Shared helpers of the commands that ask a Prometheus server (cli/api_common.h). */
#include "api_common.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int api_parse_output(const char *s, unsigned allowed, enum api_output *out)
{
    static const struct {
        const char *name;
        enum api_output o;
    } forms[] = {{"table", API_OUT_TABLE}, {"json", API_OUT_JSON}, {"csv", API_OUT_CSV}, {"chart", API_OUT_CHART}};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (strcmp(s, forms[i].name) == 0 && (allowed & (1u << forms[i].o))) {
            *out = forms[i].o;
            return 0;
        }
    return -1;
}

const char *api_server_url(const char *flag)
{
    if (flag && *flag)
        return flag;
    const char *env = getenv("PROMETHEUS_URL");
    if (env && *env)
        return env;
    return "http://localhost:9090";
}

int api_open(const char *server_flag, struct cli_net_opts *net, const char *cmd, psc_api_client **out)
{
    int rc = 0;
    const psc_fetch_opts *fo = cli_net_fetch_opts(net, &rc);
    if (!fo)
        return rc ? rc : EXIT_RUNTIME;
    psc_error err;
    psc_error_clear(&err);
    const char *url = api_server_url(server_flag);
    psc_status st = psc_api_client_new(url, fo, out, &err);
    if (st == PSC_E_ARG)
        return cli_usage_error(cmd, "%s", err.message);
    if (st != PSC_OK) {
        cli_errorf("%s", err.message);
        return EXIT_RUNTIME;
    }
    return 0;
}

int api_fail(const psc_api_client *c, const psc_error *err)
{
    fputs("promscope: ", stderr);
    const char *src = err->source ? err->source : c ? psc_api_client_url(c) : NULL;
    if (src) {
        cli_print_escaped(stderr, src, strlen(src));
        fputs(": ", stderr);
    }
    cli_print_escaped(stderr, err->message, strlen(err->message));
    fputc('\n', stderr);
    return err->status == PSC_E_ARG ? EXIT_USAGE : EXIT_RUNTIME;
}

static void print_note(const char *kind, psc_str s)
{
    fputs(g_cli.color_stderr ? "promscope: \033[35m" : "promscope: ", stderr);
    fputs(kind, stderr);
    fputs(g_cli.color_stderr ? "\033[0m: " : ": ", stderr);
    cli_print_escaped(stderr, s.ptr, s.len > 1000 ? 1000 : s.len);
    if (s.len > 1000)
        fputs("...", stderr);
    fputc('\n', stderr);
}

void api_print_notes(const psc_str *w, size_t nw, const psc_str *i, size_t ni)
{
    if (g_cli.quiet)
        return;
    size_t shown = 0;
    for (size_t k = 0; k < nw && shown < 20; k++, shown++)
        print_note("warning", w[k]);
    for (size_t k = 0; k < ni && shown < 20; k++, shown++)
        print_note("info", i[k]);
    if (nw + ni > shown)
        fprintf(stderr, "promscope: %zu more warnings and infos not shown\n", nw + ni - shown);
}

double api_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_rfc3339(const char *s, double *out)
{
    /* YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM] */
    size_t n = strlen(s);
    if (n < 20)
        return -1;
    int Y, M, D, h, m, sec;
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    double frac = 0;
    if (*p == '.') {
        p++;
        double scale = 0.1;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9') {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *out = (double)t - (double)off + frac;
    return 0;
}

int api_parse_time(const char *s, double now, double *out)
{
    if (!s || !*s)
        return -1;
    const char *p = s;
    bool rel = false;
    if (strncmp(p, "now", 3) == 0) {
        p += 3;
        rel = true;
        if (!*p) {
            *out = now;
            return 0;
        }
    }
    if (*p == '-' || *p == '+') {
        long long ms;
        if (cli_parse_duration_ms(p + 1, &ms))
            return -1;
        *out = now + (*p == '-' ? -1.0 : 1.0) * (double)ms / 1000.0;
        return 0;
    }
    if (rel)
        return -1;
    if (parse_rfc3339(s, out) == 0)
        return 0;
    /* Unix seconds */
    double v;
    if (psc_parse_double(s, strlen(s), &v) != PSC_OK || !isfinite(v) || strpbrk(s, "eEnNiI"))
        return -1;
    *out = v;
    return 0;
}

double api_default_step(double range_s)
{
    static const double nice[] = {1,    2,    5,     10,    15,    30,    60,     120,    300,
                                  600,  900,  1800,  3600,  7200,  10800, 21600,  43200,  86400,
                                  172800, 604800};
    double want = range_s / 200.0;
    for (size_t i = 0; i < sizeof nice / sizeof nice[0]; i++)
        if (nice[i] >= want)
            return nice[i];
    return ceil(want / 86400.0) * 86400.0;
}

void api_fmt_value(char *buf, size_t cap, double v)
{
    char tmp[32];
    psc_format_double(v, tmp);
    snprintf(buf, cap, "%s", tmp);
}

void api_fmt_short(char *buf, size_t cap, double v)
{
    if (!isfinite(v)) {
        api_fmt_value(buf, cap, v);
        return;
    }
    if (v != 0 && (fabs(v) >= 1e6 || fabs(v) < 1e-3))
        snprintf(buf, cap, "%.3e", v);
    else
        snprintf(buf, cap, "%.4g", v);
}

void api_fmt_duration(char *buf, size_t cap, double s)
{
    if (!isfinite(s)) {
        api_fmt_value(buf, cap, s);
        return;
    }
    double a = fabs(s);
    const char *sign = s < 0 ? "-" : "";
    if (a == 0)
        snprintf(buf, cap, "0s");
    else if (a < 1e-6)
        snprintf(buf, cap, "%s%.4gns", sign, a * 1e9);
    else if (a < 1e-3)
        snprintf(buf, cap, "%s%.4g\xc2\xb5s", sign, a * 1e6);
    else if (a < 1)
        snprintf(buf, cap, "%s%.4gms", sign, a * 1e3);
    else if (a < 60)
        snprintf(buf, cap, "%s%.4gs", sign, a);
    else if (a < 3600) {
        long long t = llround(a);
        snprintf(buf, cap, "%s%lldm%llds", sign, t / 60, t % 60);
    } else {
        long long t = llround(a);
        snprintf(buf, cap, "%s%lldh%lldm%llds", sign, t / 3600, t % 3600 / 60, t % 60);
    }
}

void api_fmt_time(char *buf, size_t cap, double t)
{
    if (!isfinite(t)) {
        snprintf(buf, cap, "-");
        return;
    }
    double ms = round(t * 1000.0);
    time_t sec = (time_t)floor(ms / 1000.0);
    int frac = (int)(ms - (double)sec * 1000.0);
    struct tm tm;
    gmtime_r(&sec, &tm);
    if (frac)
        snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    else
        snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void api_fmt_unix(char *buf, size_t cap, double t)
{
    double ms = round(t * 1000.0);
    if (!isfinite(ms) || fabs(ms) > 9e18) {
        api_fmt_value(buf, cap, t);
        return;
    }
    long long v = (long long)ms;
    const char *sign = v < 0 ? "-" : "";
    unsigned long long a = v < 0 ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;
    if (a % 1000 == 0)
        snprintf(buf, cap, "%s%llu", sign, a / 1000);
    else {
        snprintf(buf, cap, "%s%llu.%03llu", sign, a / 1000, a % 1000);
        size_t n = strlen(buf);
        while (n && buf[n - 1] == '0')
            buf[--n] = '\0';
    }
}

void api_json_number(FILE *f, double v)
{
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    char b[40];
    psc_format_double(v, b);
    fputs(b, f);
}

void api_json_labels(FILE *f, const psc_api_labelset *ls)
{
    fputc('{', f);
    for (size_t i = 0; i < ls->nlabels; i++) {
        if (i)
            fputc(',', f);
        cli_json_string(f, ls->labels[i].name.ptr, ls->labels[i].name.len);
        fputc(':', f);
        cli_json_string(f, ls->labels[i].value.ptr, ls->labels[i].value.len);
    }
    fputc('}', f);
}

/* Label value escaped as in PromQL / the text format: \\ \" \n, then
 * terminal escaping of other control characters. */
static void print_label_value(FILE *f, psc_str v)
{
    size_t start = 0;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if (c == '\\' || c == '"') {
            cli_print_escaped(f, v.ptr + start, i - start);
            fputc('\\', f);
            fputc(c, f);
            start = i + 1;
        }
    }
    cli_print_escaped(f, v.ptr + start, v.len - start);
}

void api_print_labelset(FILE *f, const psc_api_labelset *ls)
{
    const psc_str *name = api_label_get(ls, (psc_str){"__name__", 8});
    if (name)
        cli_print_escaped(f, name->ptr, name->len);
    size_t shown = 0;
    for (size_t i = 0; i < ls->nlabels; i++) {
        if (name && psc_str_eq(ls->labels[i].name, (psc_str){"__name__", 8}))
            continue;
        fputs(shown++ ? ", " : "{", f);
        cli_print_escaped(f, ls->labels[i].name.ptr, ls->labels[i].name.len);
        fputs("=\"", f);
        print_label_value(f, ls->labels[i].value);
        fputc('"', f);
    }
    if (shown)
        fputc('}', f);
    else if (!name)
        fputs("{}", f);
}

/* ---- tables ---- */

int api_table_init(struct api_table *t, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->head = calloc(ncols ? ncols : 1, sizeof *t->head);
    t->right = calloc(ncols ? ncols : 1, sizeof *t->right);
    return t->head && t->right ? 0 : -1;
}

/* Escape for a terminal into a malloc'd string (BAD-INPUTS H1). */
static char *escape_dup(const char *s, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    cli_print_escaped(m, s, n);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int api_table_head(struct api_table *t, size_t i, const char *text, bool right)
{
    free(t->head[i]);
    t->head[i] = escape_dup(text, strlen(text));
    t->right[i] = right;
    return t->head[i] ? 0 : -1;
}

long api_table_row(struct api_table *t)
{
    if (t->nrows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, nc * (t->ncols ? t->ncols : 1) * sizeof *c);
        if (!c)
            return -1;
        t->cells = c;
        t->cap = nc;
    }
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = NULL;
    return (long)t->nrows++;
}

int api_table_set(struct api_table *t, size_t row, size_t col, const char *s, size_t n)
{
    char **cell = &t->cells[row * t->ncols + col];
    free(*cell);
    *cell = escape_dup(s, n);
    return *cell ? 0 : -1;
}

int api_table_setz(struct api_table *t, size_t row, size_t col, const char *s)
{
    return api_table_set(t, row, col, s, strlen(s));
}

size_t api_display_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            w++;
    return w;
}

static void pad(FILE *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(' ', f);
}

void api_table_print(const struct api_table *t, FILE *f)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
    if (!w)
        return;
    for (size_t c = 0; c < t->ncols; c++) {
        const char *h = t->head[c] ? t->head[c] : "";
        w[c] = api_display_width(h, strlen(h));
        for (size_t r = 0; r < t->nrows; r++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t dw = s ? api_display_width(s, strlen(s)) : 0;
            if (dw > w[c])
                w[c] = dw;
        }
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        bool head = r == 0;
        if (head && g_cli.color_stdout)
            fputs("\033[1m", f);
        size_t pending = 0; /* spaces owed before the next text: no trailing blanks */
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = head ? t->head[c] : t->cells[(r - 1) * t->ncols + c];
            if (!s)
                s = "";
            size_t dw = api_display_width(s, strlen(s));
            if (c)
                pending += 2;
            if (t->right[c])
                pending += w[c] - dw;
            if (*s) {
                pad(f, pending);
                pending = 0;
                fputs(s, f);
            }
            if (!t->right[c])
                pending += w[c] - dw;
        }
        if (head && g_cli.color_stdout)
            fputs("\033[0m", f);
        fputc('\n', f);
    }
    free(w);
}

void api_table_release(struct api_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    for (size_t i = 0; i < t->ncols; i++)
        free(t->head ? t->head[i] : NULL);
    free(t->cells);
    free(t->head);
    free(t->right);
    memset(t, 0, sizeof *t);
}

void api_csv_field(FILE *f, const char *s, size_t n)
{
    if (f == stdout && g_cli.stdout_tty) {
        /* On a terminal, control characters are escaped (BAD-INPUTS H1);
         * in a pipe the field is written exactly. */
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if ((c < 0x20 && c != '\n') || c == 0x7f) {
                fputc('"', f);
                size_t start = 0;
                for (size_t k = 0; k < n; k++) {
                    if (s[k] == '"') {
                        cli_print_escaped(f, s + start, k + 1 - start);
                        fputc('"', f);
                        start = k + 1;
                    }
                }
                cli_print_escaped(f, s + start, n - start);
                fputc('"', f);
                return;
            }
        }
    }
    bool quote = n == 0 ? false : (memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n) ||
                                   s[0] == ' ' || s[n - 1] == ' ');
    if (!quote) {
        fwrite(s, 1, n, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

const psc_str *api_label_get(const psc_api_labelset *ls, psc_str name)
{
    for (size_t i = 0; i < ls->nlabels; i++)
        if (psc_str_eq(ls->labels[i].name, name))
            return &ls->labels[i].value;
    return NULL;
}

static int str_cmp(const void *a, const void *b)
{
    const psc_str *x = a, *y = b;
    bool xn = psc_str_eq(*x, (psc_str){"__name__", 8}), yn = psc_str_eq(*y, (psc_str){"__name__", 8});
    if (xn != yn)
        return xn ? -1 : 1;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = m ? memcmp(x->ptr, y->ptr, m) : 0;
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

psc_str *api_label_columns(const psc_api_labelset *const *sets, size_t n, bool varying, size_t *ncols)
{
    size_t cap = 16, cnt = 0;
    psc_str *names = malloc(cap * sizeof *names);
    if (!names)
        return NULL;
    /* Union of names: sets have sorted labels; a simple sorted merge keeps
     * this O(total labels * distinct names) which is small in practice. */
    for (size_t s = 0; s < n; s++) {
        for (size_t i = 0; i < sets[s]->nlabels; i++) {
            psc_str nm = sets[s]->labels[i].name;
            bool seen = false;
            for (size_t k = 0; k < cnt && !seen; k++)
                seen = psc_str_eq(names[k], nm);
            if (seen)
                continue;
            if (cnt == cap) {
                psc_str *nn = realloc(names, cap * 2 * sizeof *names);
                if (!nn) {
                    free(names);
                    return NULL;
                }
                names = nn;
                cap *= 2;
            }
            names[cnt++] = nm;
        }
    }
    if (varying && n > 1) {
        size_t k = 0;
        for (size_t c = 0; c < cnt; c++) {
            const psc_str *first = api_label_get(sets[0], names[c]);
            bool differs = false;
            for (size_t s = 1; s < n && !differs; s++) {
                const psc_str *v = api_label_get(sets[s], names[c]);
                differs = (v == NULL) != (first == NULL) || (v && !psc_str_eq(*v, *first));
            }
            if (differs)
                names[k++] = names[c];
        }
        cnt = k;
    }
    qsort(names, cnt, sizeof *names, str_cmp);
    *ncols = cnt;
    return names;
}
