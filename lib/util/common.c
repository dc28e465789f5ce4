/* Version, names of enums, and small helpers of promscope/common.h. */
#include <string.h>

#include "promscope/codes.h"
#include "promscope/common.h"

const char *psc_version(void)
{
    return PSC_VERSION;
}

const char *psc_status_name(psc_status s)
{
    switch (s) {
    case PSC_OK: return "ok";
    case PSC_DONE: return "done";
    case PSC_E_SYNTAX: return "syntax";
    case PSC_E_UTF8: return "utf8";
    case PSC_E_SEMANTIC: return "semantic";
    case PSC_E_LIMIT: return "limit";
    case PSC_E_NOMEM: return "nomem";
    case PSC_E_IO: return "io";
    case PSC_E_ARG: return "arg";
    case PSC_E_NET: return "net";
    case PSC_E_HTTP: return "http";
    case PSC_E_API: return "api";
    case PSC_E_UNSUPPORTED: return "unsupported";
    }
    return "unknown";
}

static const char *const code_names[] = {
#define PSC_X_NAME(e, id) id,
    PSC_CODE_LIST(PSC_X_NAME)
#undef PSC_X_NAME
};

const char *psc_code_name(psc_code c)
{
    if ((unsigned)c >= (unsigned)PSC_C__COUNT)
        return "unknown";
    return code_names[c];
}

bool psc_str_eq(psc_str a, psc_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

void psc_error_clear(psc_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
}
