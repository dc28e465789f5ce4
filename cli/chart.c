/* Braille line charts and block sparklines (cli/chart.h). */
#include "chart.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "api_common.h"

static const char *const palette[] = {"\033[32m", "\033[33m", "\033[34m", "\033[35m", "\033[36m", "\033[31m",
                                      "\033[92m", "\033[93m", "\033[94m", "\033[95m", "\033[96m", "\033[91m"};
#define NPALETTE (sizeof palette / sizeof palette[0])

const char *chart_color(size_t i, bool color)
{
    return color ? palette[i % NPALETTE] : "";
}

int chart_term_width(void)
{
    const char *c = getenv("COLUMNS");
    if (c && *c) {
        long v = strtol(c, NULL, 10);
        if (v >= 20 && v <= 1000)
            return (int)v;
    }
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

void chart_stats(const psc_api_point *p, size_t n, double *min, double *avg, double *max, double *last)
{
    double lo = NAN, hi = NAN, sum = 0, l = NAN;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        double v = p[i].v;
        if (p[i].h || !isfinite(v))
            continue;
        if (cnt == 0 || v < lo)
            lo = v;
        if (cnt == 0 || v > hi)
            hi = v;
        sum += v;
        cnt++;
        l = v;
    }
    *min = lo;
    *max = hi;
    *avg = cnt ? sum / (double)cnt : NAN;
    *last = l;
}

void chart_sparkline(char *buf, size_t cap, const psc_api_point *p, size_t n, double start, double end, int width,
                     double lo, double hi)
{
    static const char *const levels[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
                                         "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
    size_t o = 0;
    if (cap == 0)
        return;
    if (width < 1)
        width = 1;
    double *sum = calloc((size_t)width, sizeof *sum);
    size_t *cnt = calloc((size_t)width, sizeof *cnt);
    if (!sum || !cnt) {
        free(sum);
        free(cnt);
        buf[0] = '\0';
        return;
    }
    double span = end - start;
    for (size_t i = 0; i < n; i++) {
        if (p[i].h || !isfinite(p[i].v))
            continue;
        int c = span > 0 ? (int)floor((p[i].t - start) / span * width) : 0;
        if (c >= width)
            c = width - 1;
        if (c < 0)
            c = 0;
        sum[c] += p[i].v;
        cnt[c]++;
    }
    for (int c = 0; c < width; c++) {
        const char *s = " ";
        if (cnt[c]) {
            double v = sum[c] / (double)cnt[c];
            int lv = 3;
            if (hi > lo)
                lv = (int)floor((v - lo) / (hi - lo) * 7.0 + 0.5);
            if (lv < 0)
                lv = 0;
            if (lv > 7)
                lv = 7;
            s = levels[lv];
        }
        size_t l = strlen(s);
        if (o + l + 1 > cap)
            break;
        memcpy(buf + o, s, l);
        o += l;
    }
    buf[o] = '\0';
    free(sum);
    free(cnt);
}

/* ---- braille ---- */

static const uint8_t dot_bits[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};

struct canvas {
    int w, h;          /* cells */
    uint8_t *bits;
    int16_t *color;    /* series index per cell, -1 none */
};

static void plot(struct canvas *c, int x, int y, int series)
{
    if (x < 0 || y < 0 || x >= c->w * 2 || y >= c->h * 4)
        return;
    size_t cell = (size_t)(y / 4) * (size_t)c->w + (size_t)(x / 2);
    c->bits[cell] |= dot_bits[y % 4][x % 2];
    c->color[cell] = (int16_t)series;
}

static void line(struct canvas *c, int x0, int y0, int x1, int y1, int series)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (int guard = 0; guard < 100000; guard++) {
        plot(c, x0, y0, series);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

static void fmt_axis(char *buf, size_t cap, double v, bool durations)
{
    if (durations)
        api_fmt_duration(buf, cap, v);
    else
        api_fmt_short(buf, cap, v);
}

static void fmt_tick(char *buf, size_t cap, double t, double span, bool utc)
{
    time_t s = (time_t)floor(t);
    struct tm tm;
    if (utc)
        gmtime_r(&s, &tm);
    else
        localtime_r(&s, &tm);
    if (span > 2 * 86400)
        strftime(buf, cap, "%m-%d %H:%M", &tm);
    else if (span >= 600)
        strftime(buf, cap, "%H:%M", &tm);
    else
        strftime(buf, cap, "%H:%M:%S", &tm);
}

/* The y label of plot row r: the top row shows the maximum, the bottom row
 * the minimum, rows between the value at their middle dot. */
static double row_value(int r, int rows, double lo, double hi)
{
    if (r == 0)
        return hi;
    if (r == rows - 1)
        return lo;
    return hi - (hi - lo) * (r * 4 + 1.5) / (rows * 4 - 1);
}

void chart_braille(FILE *f, const struct chart_series *s, size_t n, const struct chart_opts *o)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < s[i].npoints; k++) {
            double v = s[i].points[k].v;
            if (s[i].points[k].h || !isfinite(v))
                continue;
            if (v < lo)
                lo = v;
            if (v > hi)
                hi = v;
        }
    if (!(lo <= hi)) {
        fputs("(no numeric samples in the range)\n", f);
        return;
    }
    if (lo == hi) {
        double pad = lo == 0 ? 1 : fabs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    /* y labels */
    int rows = o->height < 3 ? 3 : o->height;
    char lab[64];
    int lw = 0;
    for (int r = 0; r < rows; r++) {
        double v = row_value(r, rows, lo, hi);
        fmt_axis(lab, sizeof lab, v, o->durations);
        int l = (int)api_display_width(lab, strlen(lab));
        if (l > lw)
            lw = l;
    }
    int cols = o->width - lw - 2;
    if (cols < 10)
        cols = 10;
    struct canvas c = {cols, rows, calloc((size_t)cols * (size_t)rows, 1),
                       malloc((size_t)cols * (size_t)rows * sizeof(int16_t))};
    if (!c.bits || !c.color) {
        free(c.bits);
        free(c.color);
        return;
    }
    for (int i = 0; i < cols * rows; i++)
        c.color[i] = -1;
    double span = o->end - o->start;
    int xmax = cols * 2 - 1, ymax = rows * 4 - 1;
    for (size_t i = 0; i < n; i++) {
        int px = 0, py = 0;
        double pt = NAN;
        for (size_t k = 0; k < s[i].npoints; k++) {
            const psc_api_point *p = &s[i].points[k];
            if (p->h || !isfinite(p->v)) {
                pt = NAN;
                continue;
            }
            int x = span > 0 ? (int)lround((p->t - o->start) / span * xmax) : 0;
            int y = ymax - (int)lround((p->v - lo) / (hi - lo) * ymax);
            if (!isnan(pt) && (o->step <= 0 || p->t - pt <= 1.5 * o->step))
                line(&c, px, py, x, y, (int)i);
            else
                plot(&c, x, y, (int)i);
            px = x;
            py = y;
            pt = p->t;
        }
    }
    for (int r = 0; r < rows; r++) {
        bool labelled = r == 0 || r == rows - 1 || r % 4 == 0;
        if (labelled) {
            double v = row_value(r, rows, lo, hi);
            fmt_axis(lab, sizeof lab, v, o->durations);
            int l = (int)api_display_width(lab, strlen(lab));
            fprintf(f, "%*s%s \xe2\x94\xa4", lw - l, "", lab); /* ┤ */
        } else {
            fprintf(f, "%*s \xe2\x94\x82", lw, ""); /* │ */
        }
        int cur = -1;
        for (int x = 0; x < cols; x++) {
            size_t cell = (size_t)r * (size_t)cols + (size_t)x;
            uint8_t b = c.bits[cell];
            if (o->color && b && c.color[cell] != cur) {
                cur = c.color[cell];
                fputs(chart_color((size_t)cur, true), f);
            }
            if (!b) {
                fputc(' ', f);
                continue;
            }
            unsigned cp = 0x2800u + b;
            fputc((int)(0xe0 | (cp >> 12)), f);
            fputc((int)(0x80 | ((cp >> 6) & 0x3f)), f);
            fputc((int)(0x80 | (cp & 0x3f)), f);
        }
        if (o->color && cur >= 0)
            fputs("\033[0m", f);
        fputc('\n', f);
    }
    /* time axis: ticks at the label positions */
    int ticks = cols >= 60 ? 4 : 2;
    int tickx[5];
    for (int k = 0; k <= ticks; k++)
        tickx[k] = (int)lround((double)k * (cols - 1) / ticks);
    fprintf(f, "%*s \xe2\x94\x94", lw, ""); /* └ */
    for (int x = 0, k = 0; x < cols; x++) {
        bool tick = k <= ticks && tickx[k] == x;
        if (tick)
            k++;
        fputs(tick ? "\xe2\x94\xac" : "\xe2\x94\x80", f); /* ┬ ─ */
    }
    fputc('\n', f);
    {
        size_t linew = (size_t)cols + 1;
        char *tl = malloc(linew + 1);
        if (tl) {
            memset(tl, ' ', linew);
            tl[linew] = '\0';
            for (int k = 0; k <= ticks; k++) {
                int x = tickx[k];
                double t = o->start + span * (double)x / (double)(cols > 1 ? cols - 1 : 1);
                char tb[32];
                fmt_tick(tb, sizeof tb, t, span, o->utc);
                int l = (int)strlen(tb);
                int at = x - l / 2;
                if (at < 0)
                    at = 0;
                if (at + l > (int)linew)
                    at = (int)linew - l;
                if (at < 0)
                    continue;
                bool free_ = true;
                for (int q = at > 0 ? at - 1 : 0; q < at + l + 1 && q < (int)linew; q++)
                    if (tl[q] != ' ')
                        free_ = false;
                if (free_)
                    memcpy(tl + at, tb, (size_t)l);
            }
            size_t end = linew;
            while (end && tl[end - 1] == ' ')
                end--;
            tl[end] = '\0';
            fprintf(f, "%*s  %s%s\n", lw, "", tl, o->utc ? " UTC" : "");
            free(tl);
        }
    }
    /* legend */
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\xe2\x94\x81\xe2\x94\x81%s %s\n", chart_color(i, o->color), o->color ? "\033[0m" : "",
                s[i].label); /* ━━ */
    free(c.bits);
    free(c.color);
}
