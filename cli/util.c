/* Shared CLI helpers: messages, option value parsing, escaping, output checks. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "parse/internal.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "promscope%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "\nRun 'promscope %s -h' for usage.\n", cmd);
    else
        fprintf(stderr, "\nRun 'promscope help' for usage.\n");
    return EXIT_USAGE;
}

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    fputs("promscope: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_warnf(const char *fmt, ...)
{
    if (g_cli.quiet)
        return;
    va_list ap;
    fputs(g_cli.color_stderr ? "promscope: \033[35mwarning\033[0m: " : "promscope: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_print_command_help(FILE *f, const struct cli_command *c, const char *options_text)
{
    fprintf(f, "usage: %s\n\n%s\n", c->synopsis, c->summary);
    if (options_text && *options_text)
        fprintf(f, "\noptions:\n%s", options_text);
    fprintf(f, "\nexit codes: 0 success, 1 findings, 2 usage error, 3 runtime failure\n");
}

int cli_parse_format(const char *s, psc_format *out)
{
    if (strcmp(s, "auto") == 0)
        *out = PSC_FORMAT_AUTO;
    else if (strcmp(s, "text") == 0 || strcmp(s, "text-1.0.0") == 0 || strcmp(s, "prometheus") == 0)
        *out = PSC_FORMAT_TEXT_1_0_0;
    else if (strcmp(s, "text-0.0.4") == 0)
        *out = PSC_FORMAT_TEXT_0_0_4;
    else if (strcmp(s, "openmetrics") == 0 || strcmp(s, "om") == 0 || strcmp(s, "openmetrics-1.0") == 0)
        *out = PSC_FORMAT_OPENMETRICS_1_0;
    else
        return -1;
    return 0;
}

int cli_parse_duration_ms(const char *s, long long *out_ms)
{
    /* Prometheus-style durations (1h30m, 500ms, 10s) plus fractions ("1.5s")
     * and a bare number meaning seconds. */
    if (!s || !*s)
        return -1;
    double total = 0;
    const char *p = s;
    int parts = 0;
    while (*p) {
        char *end;
        errno = 0;
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return -1;
        double v = strtod(p, &end);
        if (end == p || errno)
            return -1;
        p = end;
        double mul;
        if (strncmp(p, "ms", 2) == 0) {
            mul = 1;
            p += 2;
        } else if (*p == 's') {
            mul = 1000;
            p++;
        } else if (*p == 'm') {
            mul = 60e3;
            p++;
        } else if (*p == 'h') {
            mul = 3600e3;
            p++;
        } else if (*p == 'd') {
            mul = 86400e3;
            p++;
        } else if (*p == 'w') {
            mul = 7 * 86400e3;
            p++;
        } else if (*p == 'y') {
            mul = 365 * 86400e3;
            p++;
        } else if (*p == '\0' && parts == 0) {
            mul = 1000;
        } else {
            return -1;
        }
        total += v * mul;
        parts++;
    }
    if (total < 0 || total > 9.2e15)
        return -1;
    *out_ms = (long long)(total + 0.5);
    return 0;
}

int cli_parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    static const struct { const char *suf; double mul; } units[] = {
        {"", 1},          {"B", 1},         {"KiB", 1024.0},         {"MiB", 1048576.0},
        {"GiB", 1073741824.0}, {"KB", 1e3}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
        {"K", 1024.0},    {"M", 1048576.0}, {"G", 1073741824.0},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suf) == 0) {
            double b = v * units[i].mul;
            if (b > 1.8e19)
                return -1;
            *out = (unsigned long long)b;
            return 0;
        }
    }
    return -1;
}

int cli_write_file(void *ctx, const char *p, size_t n)
{
    return fwrite(p, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

int cli_finish(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            fprintf(stderr, "promscope: write error on standard output: %s\n", strerror(errno));
        return EXIT_RUNTIME;
    }
    return code;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid
 * or cut short: the parser's own check (lib/parse/format.c). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    bool truncated;
    return psc_utf8_seq(p, n, &truncated);
}

void cli_json_string(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            i++;
        } else if (c == '\n') {
            fputs("\\n", f);
            i++;
        } else if (c == '\t') {
            fputs("\\t", f);
            i++;
        } else if (c == '\r') {
            fputs("\\r", f);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            i++;
        } else {
            size_t l = utf8_seq(p + i, n - i);
            if (!l) {
                fputs("\\ufffd", f);
                i++;
            } else if (l == 2 && c == 0xc2 && p[i + 1] < 0xa0) {
                /* C1 controls (U+0080-U+009F): valid in JSON strings, but
                 * some terminals act on them (BAD-INPUTS H1) */
                fprintf(f, "\\u%04x", (unsigned)p[i + 1]);
                i += 2;
            } else {
                fwrite(p + i, 1, l, f);
                i += l;
            }
        }
    }
    fputc('"', f);
}

void cli_print_escaped(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c < 0x20 || c == 0x7f) {
            if (c == '\n')
                fputs("\\n", f);
            else if (c == '\t')
                fputs("\\t", f);
            else
                fprintf(f, "\\x%02x", c);
            i++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            i++;
        } else {
            size_t l = utf8_seq(p + i, n - i);
            if (!l || (l == 2 && c == 0xc2 && p[i + 1] < 0xa0)) {
                fprintf(f, "\\x%02x", c);
                i++;
            } else {
                fwrite(p + i, 1, l, f);
                i += l;
            }
        }
    }
}
