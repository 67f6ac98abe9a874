/* status.c: one-line error messages, one buffer per thread.  Library code
 * records what went wrong with advc_set_error() and returns the status;
 * the CLI prints advc_last_error() and exits. */
#include <stdarg.h>
#include <stdio.h>
#include "advc/core.h"

static _Thread_local char last_error[512];
static _Thread_local advc_status last_status = ADVC_OK;

advc_status advc_set_error(advc_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    last_status = s;
    return s;
}

const char *advc_last_error(void) { return last_error; }
advc_status advc_last_status(void) { return last_status; }

const char *advc_status_name(advc_status s)
{
    switch (s) {
    case ADVC_OK: return "ok";
    case ADVC_ERR_ARG: return "bad argument";
    case ADVC_ERR_IO: return "i/o error";
    case ADVC_ERR_FORMAT: return "bad format";
    case ADVC_ERR_NOMEM: return "out of memory";
    case ADVC_ERR_NAN: return "not a number";
    case ADVC_ERR_STATE: return "wrong state";
    }
    return "unknown status";
}
