/* A fake tapi32 for the tests: the TAPI 2.x line functions callsys calls, with the structure
 * layouts of the Windows SDK's tapi.h (tapi_layout.h), plus a control API (fake_*) with which a
 * test plays the part of a TSP: calls that ring with a caller ID that comes later, far ends that
 * answer and hang up, a second call, monitor-only lines, refused requests, late replies.
 *
 * Behaviour follows the TAPI 2.x documentation: lineInitializeEx with event notification only;
 * async functions return a positive request id and a LINE_REPLY later (immediately queued, or held
 * back until fake_release_replies); a call is announced by LINE_APPNEWCALL and then LINE_CALLSTATE;
 * variable-size structures are filled up to dwTotalSize, dwNeededSize says what the whole needs;
 * strings are UTF-16-LE with their NUL, sizes in bytes. One application at a time. Thread-safe:
 * lineGetMessage blocks on a condition variable while tests call the control API.
 *
 * Built by tests/tapi/conftest.py with: gcc -shared -fPIC -O1 -Wall -Werror -pthread
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tapi_layout.h"

#define EXPORT __attribute__((visibility("default")))

#define LINEERR_BADDEVICEID 0x80000002u
#define LINEERR_INCOMPATIBLEAPIVERSION 0x8000000Cu
#define LINEERR_INVALAPPHANDLE 0x80000014u
#define LINEERR_INVALCALLHANDLE 0x80000018u
#define LINEERR_INVALCALLSTATE 0x8000001Cu
#define LINEERR_INVALLINEHANDLE 0x8000002Bu
#define LINEERR_INVALPARAM 0x80000032u
#define LINEERR_INVALPRIVSELECT 0x80000036u
#define LINEERR_NOTOWNER 0x80000046u
#define LINEERR_OPERATIONFAILED 0x80000048u
#define LINEERR_OPERATIONUNAVAIL 0x80000049u
#define LINEERR_STRUCTURETOOSMALL 0x8000004Du

#define LINE_CALLINFO 1
#define LINE_CALLSTATE 2
#define LINE_REPLY 12
#define LINE_APPNEWCALL 23

#define ST_IDLE 0x1
#define ST_OFFERING 0x2
#define ST_ACCEPTED 0x4
#define ST_DIALING 0x10
#define ST_RINGBACK 0x20
#define ST_CONNECTED 0x100
#define ST_PROCEEDING 0x200
#define ST_ONHOLD 0x400
#define ST_DISCONNECTED 0x4000

#define PRIV_MONITOR 0x2
#define PRIV_OWNER 0x4
#define PARTY_BLOCKED 0x1
#define PARTY_NAME 0x4
#define PARTY_ADDRESS 0x8
#define PARTY_UNKNOWN 0x20
#define ORIGIN_OUTBOUND 0x1
#define REASON_DIRECT 0x1
#define FEATURE_ANSWER 0x4
#define FEATURE_BLINDTRANSFER 0x8
#define FEATURE_DROP 0x80
#define FEATURE_HOLD 0x800
#define FEATURE_UNHOLD 0x08000000u

/* fake_add_line flags */
#define FAKE_REFUSE_OWNER 1    /* lineOpen with owner privilege fails: LINEERR_INVALPRIVSELECT */
#define FAKE_NO_ANSWER 2       /* the TSP cannot answer on this line (no LINECALLFEATURE_ANSWER) */
#define FAKE_OLD_VERSION 4     /* the line speaks TAPI 1.4 only */

#define MAX_LINES 16
#define MAX_CALLS 256
#define MAX_MSGS 4096
#define MAX_PENDING 256

typedef struct {
    char name[256];
    DWORD flags;
    DWORD handle; /* HLINE while open, else 0 */
    DWORD privileges;
} FakeLine;

typedef struct {
    int used;
    int announced_to_app;
    DWORD handle;
    int dev;
    DWORD state, mode, privilege, origin, reason, call_id;
    char caller[128], caller_name[1024], called[128], called_name[256], connected[128];
} FakeCall;

typedef struct {
    DWORD request;
    DWORD result;
    DWORD call;
    DWORD states[2];
    DWORD modes[2];
    DWORD *out; /* lineMakeCall's lphCall when it is written with the reply (fake_late_handle) */
} Pending;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static LINEMESSAGE queue[MAX_MSGS];
static int q_head, q_count;
static FakeLine lines[MAX_LINES];
static int n_lines;
static FakeCall calls[MAX_CALLS];
static Pending pending[MAX_PENDING];
static int n_pending;
static int initialized, hold_replies, late_handle;
static DWORD app_handle, next_request = 1, next_handle = 0x100, next_call_id = 5000;
static DWORD init_error;
static char fail_fn[64];
static DWORD fail_code;
static int fail_async;
static char app_name[256];
static char log_text[65536];
static int too_small, live_calls;
static DWORD last_call;

/* ------------------------------------------------------------------ text */
static int utf8_to_utf16(const char *in, WCHAR *out, int max) {
    const unsigned char *p = (const unsigned char *)in;
    int n = 0;
    while (*p && n < max - 2) {
        uint32_t c;
        if (*p < 0x80) c = *p++;
        else if ((*p & 0xE0) == 0xC0) { c = (*p++ & 0x1F) << 6; c |= (*p++ & 0x3F); }
        else if ((*p & 0xF0) == 0xE0) {
            c = (*p++ & 0x0F) << 12; c |= (*p++ & 0x3F) << 6; c |= (*p++ & 0x3F);
        } else {
            c = (*p++ & 0x07) << 18; c |= (*p++ & 0x3F) << 12; c |= (*p++ & 0x3F) << 6; c |= (*p++ & 0x3F);
        }
        if (c >= 0x10000) {
            c -= 0x10000;
            out[n++] = (WCHAR)(0xD800 + (c >> 10));
            out[n++] = (WCHAR)(0xDC00 + (c & 0x3FF));
        } else {
            out[n++] = (WCHAR)c;
        }
    }
    out[n++] = 0;
    return n; /* units, with the NUL */
}

static void utf16_to_ascii(const WCHAR *in, char *out, int max) {
    int n = 0;
    while (in && in[n] && n < max - 1) { out[n] = in[n] < 0x80 ? (char)in[n] : '?'; n++; }
    out[n] = 0;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void logf_(const char *fmt, ...) {
    size_t len = strlen(log_text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(log_text + len, sizeof log_text - len, fmt, ap);
    va_end(ap);
    len = strlen(log_text);
    if (len + 1 < sizeof log_text) { log_text[len] = '\n'; log_text[len + 1] = 0; }
}

/* A string into the variable part of a structure at *used; its size/offset fields are at
 * size_at/offset_at. *needed grows whether or not it fits (as TAPI's dwNeededSize does). */
static void put_string(uint8_t *base, DWORD total, DWORD *used, DWORD *needed, size_t size_at,
                       size_t offset_at, const char *text) {
    static WCHAR tmp[2048];
    DWORD zero = 0;
    memcpy(base + size_at, &zero, 4);
    memcpy(base + offset_at, &zero, 4);
    if (!text || !*text) return;
    DWORD bytes = (DWORD)utf8_to_utf16(text, tmp, 2048) * 2;
    *needed += bytes;
    if (*used + bytes > total) return;
    memcpy(base + *used, tmp, bytes);
    memcpy(base + size_at, &bytes, 4);
    memcpy(base + offset_at, used, 4);
    *used += bytes;
}

/* ------------------------------------------------------------------ messages */
static void post(DWORD device, DWORD id, DWORD_PTR p1, DWORD_PTR p2, DWORD_PTR p3) {
    if (!initialized || q_count >= MAX_MSGS) return;
    LINEMESSAGE *m = &queue[(q_head + q_count) % MAX_MSGS];
    m->hDevice = device; m->dwMessageID = id; m->dwCallbackInstance = 0;
    m->dwParam1 = p1; m->dwParam2 = p2; m->dwParam3 = p3;
    q_count++;
    pthread_cond_broadcast(&cv);
}

static FakeCall *call_of(DWORD handle) {
    for (int i = 0; i < MAX_CALLS; i++)
        if (calls[i].used && calls[i].handle == handle) return &calls[i];
    return NULL;
}

static FakeLine *line_of(DWORD handle) {
    for (int i = 0; i < n_lines; i++)
        if (handle && lines[i].handle == handle) return &lines[i];
    return NULL;
}

static void set_state(FakeCall *c, DWORD state, DWORD mode) {
    c->state = state;
    c->mode = mode;
    FakeLine *l = &lines[c->dev];
    if (!l->handle) return;
    if (!c->announced_to_app) {
        c->announced_to_app = 1;
        post(l->handle, LINE_APPNEWCALL, 0, c->handle, c->privilege);
    }
    post(c->handle, LINE_CALLSTATE, state, mode, 0);
}

static FakeCall *new_call(int dev) {
    for (int i = 0; i < MAX_CALLS; i++) {
        if (!calls[i].used) {
            FakeCall *c = &calls[i];
            memset(c, 0, sizeof *c);
            c->used = 1;
            c->handle = next_handle++;
            c->dev = dev;
            c->call_id = next_call_id++;
            c->reason = REASON_DIRECT;
            FakeLine *l = &lines[dev];
            int owner = (l->privileges & PRIV_OWNER) != 0;
            c->privilege = owner ? PRIV_OWNER : PRIV_MONITOR;
            live_calls++;
            last_call = c->handle;
            return c;
        }
    }
    return NULL;
}

static int take_failure(const char *fn, DWORD *code, int *async) {
    if (!fail_fn[0] || strcmp(fail_fn, fn) != 0) return 0;
    *code = fail_code;
    *async = fail_async;
    fail_fn[0] = 0;
    return 1;
}

static void apply(Pending *p) {
    if (p->out && !p->result) *p->out = p->call;
    post(0, LINE_REPLY, p->request, p->result, 0);
    FakeCall *c = call_of(p->call);
    if (p->result) {
        if (c && (p->states[0] == ST_PROCEEDING || p->out)) { c->used = 0; live_calls--; } /* no call was made */
        return;
    }
    for (int i = 0; i < 2 && c; i++)
        if (p->states[i]) set_state(c, p->states[i], p->modes[i]);
}

/* An async request: its LINE_REPLY (and what the TSP does after it) now or when released. */
static LONG request_out(const char *fn, DWORD call, DWORD *out, DWORD s1, DWORD m1, DWORD s2, DWORD m2) {
    DWORD code;
    int async;
    Pending p = {next_request++, 0, call, {s1, s2}, {m1, m2}, out};
    if (take_failure(fn, &code, &async)) {
        if (!async) return (LONG)code;
        p.result = code;
    }
    if (hold_replies && n_pending < MAX_PENDING) pending[n_pending++] = p;
    else apply(&p);
    return (LONG)p.request;
}

static LONG request(const char *fn, DWORD call, DWORD s1, DWORD m1, DWORD s2, DWORD m2) {
    return request_out(fn, call, NULL, s1, m1, s2, m2);
}

/* ------------------------------------------------------------------ TAPI */
EXPORT LONG lineInitializeExW(DWORD *app, void *instance, void *callback, const WCHAR *name,
                              DWORD *devices, DWORD *api_version, LINEINITIALIZEEXPARAMS *params) {
    (void)instance; (void)callback;
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    if (init_error) rc = (LONG)init_error;
    else if (!params || params->dwTotalSize < sizeof *params) rc = (LONG)LINEERR_STRUCTURETOOSMALL;
    else if (params->dwOptions != 2 /* USEEVENT */) rc = (LONG)LINEERR_INVALPARAM;
    else if (!api_version || *api_version < 0x00020000) rc = (LONG)LINEERR_INCOMPATIBLEAPIVERSION;
    else {
        initialized = 1;
        *app = app_handle = 0x4711;
        *devices = (DWORD)n_lines;
        *api_version = 0x00030001;
        params->dwNeededSize = params->dwUsedSize = sizeof *params;
        params->Handles.hEvent = (HANDLE)&cv;
        utf16_to_ascii(name, app_name, sizeof app_name);
        q_head = q_count = 0;
        logf_("lineInitializeExW %s", app_name);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineNegotiateAPIVersion(DWORD app, DWORD dev, DWORD low, DWORD high, DWORD *version,
                                    LINEEXTENSIONID *ext) {
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    if (!initialized || app != app_handle) rc = (LONG)LINEERR_INVALAPPHANDLE;
    else if (dev >= (DWORD)n_lines) rc = (LONG)LINEERR_BADDEVICEID;
    else {
        DWORD top = (lines[dev].flags & FAKE_OLD_VERSION) ? 0x00010004 : 0x00020002;
        if (low > top) rc = (LONG)LINEERR_INCOMPATIBLEAPIVERSION;
        else {
            *version = high < top ? high : top;
            memset(ext, 0, sizeof *ext);
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineGetDevCapsW(DWORD app, DWORD dev, DWORD version, DWORD ext, LINEDEVCAPS *caps) {
    (void)version; (void)ext;
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    if (!initialized || app != app_handle) rc = (LONG)LINEERR_INVALAPPHANDLE;
    else if (dev >= (DWORD)n_lines) rc = (LONG)LINEERR_BADDEVICEID;
    else if (caps->dwTotalSize < sizeof *caps) { rc = (LONG)LINEERR_STRUCTURETOOSMALL; too_small++; }
    else {
        DWORD total = caps->dwTotalSize, used = sizeof *caps, needed = sizeof *caps;
        memset(caps, 0, sizeof *caps);
        caps->dwTotalSize = total;
        caps->dwPermanentLineID = 0x1000 + dev;
        caps->dwStringFormat = 3; /* STRINGFORMAT_UNICODE */
        caps->dwNumAddresses = 1;
        caps->dwMaxNumActiveCalls = 2;
        caps->dwMediaModes = 0x4;
        caps->dwLineFeatures = 0x8; /* LINEFEATURE_MAKECALL */
        put_string((uint8_t *)caps, total, &used, &needed, offsetof(LINEDEVCAPS, dwProviderInfoSize),
                   offsetof(LINEDEVCAPS, dwProviderInfoOffset), "Fake TSP");
        put_string((uint8_t *)caps, total, &used, &needed, offsetof(LINEDEVCAPS, dwLineNameSize),
                   offsetof(LINEDEVCAPS, dwLineNameOffset), lines[dev].name);
        caps->dwNeededSize = needed;
        caps->dwUsedSize = used;
        if (needed > total) too_small++;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineOpenW(DWORD app, DWORD dev, DWORD *line, DWORD version, DWORD ext, DWORD_PTR instance,
                      DWORD privileges, DWORD media, void *params) {
    (void)version; (void)ext; (void)instance; (void)params;
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    if (!initialized || app != app_handle) rc = (LONG)LINEERR_INVALAPPHANDLE;
    else if (dev >= (DWORD)n_lines) rc = (LONG)LINEERR_BADDEVICEID;
    else if ((privileges & PRIV_OWNER) && (lines[dev].flags & FAKE_REFUSE_OWNER)) rc = (LONG)LINEERR_INVALPRIVSELECT;
    else if ((privileges & PRIV_OWNER) && !media) rc = (LONG)LINEERR_INVALPARAM;
    else {
        lines[dev].handle = *line = 0x200 + dev;
        lines[dev].privileges = privileges;
        logf_("lineOpenW %u %u", dev, privileges);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineClose(DWORD line) {
    pthread_mutex_lock(&mu);
    FakeLine *l = line_of(line);
    LONG rc = l ? 0 : (LONG)LINEERR_INVALLINEHANDLE;
    if (l) { l->handle = 0; logf_("lineClose %s", l->name); }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineShutdown(DWORD app) {
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    if (!initialized || app != app_handle) rc = (LONG)LINEERR_INVALAPPHANDLE;
    else {
        initialized = 0;
        for (int i = 0; i < n_lines; i++) lines[i].handle = 0;
        q_count = 0;
        logf_("lineShutdown");
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineGetMessage(DWORD app, LINEMESSAGE *msg, DWORD timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    for (;;) {
        if (!initialized || app != app_handle) { rc = (LONG)LINEERR_INVALAPPHANDLE; break; }
        if (q_count) {
            *msg = queue[q_head];
            q_head = (q_head + 1) % MAX_MSGS;
            q_count--;
            break;
        }
        if (pthread_cond_timedwait(&cv, &mu, &until) == ETIMEDOUT) {
            rc = (LONG)LINEERR_OPERATIONFAILED;
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineGetCallInfoW(DWORD hcall, LINECALLINFO *info) {
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    FakeCall *c = call_of(hcall);
    if (!c) rc = (LONG)LINEERR_INVALCALLHANDLE;
    else if (info->dwTotalSize < sizeof *info) { rc = (LONG)LINEERR_STRUCTURETOOSMALL; too_small++; }
    else {
        DWORD total = info->dwTotalSize, used = sizeof *info, needed = sizeof *info;
        memset(info, 0, sizeof *info);
        info->dwTotalSize = total;
        info->hLine = lines[c->dev].handle;
        info->dwLineDeviceID = (DWORD)c->dev;
        info->dwCallID = c->call_id;
        info->dwOrigin = c->origin;
        info->dwReason = c->reason;
        info->dwMediaMode = 0x4;
        info->dwCallStates = 0xFFFF;
        info->dwNumOwners = c->privilege == PRIV_OWNER;
        info->dwNumMonitors = 1;
        info->dwCallerIDFlags = c->caller[0] ? PARTY_ADDRESS | (c->caller_name[0] ? PARTY_NAME : 0)
                                             : (c->caller_name[0] ? PARTY_NAME : PARTY_UNKNOWN);
        if (!strcmp(c->caller, "blocked")) info->dwCallerIDFlags = PARTY_BLOCKED;
        info->dwCalledIDFlags = c->called[0] ? PARTY_ADDRESS | (c->called_name[0] ? PARTY_NAME : 0) : PARTY_UNKNOWN;
        info->dwConnectedIDFlags = c->connected[0] ? PARTY_ADDRESS : PARTY_UNKNOWN;
        uint8_t *b = (uint8_t *)info;
        if (info->dwCallerIDFlags != PARTY_BLOCKED)
            put_string(b, total, &used, &needed, offsetof(LINECALLINFO, dwCallerIDSize),
                       offsetof(LINECALLINFO, dwCallerIDOffset), c->caller);
        put_string(b, total, &used, &needed, offsetof(LINECALLINFO, dwCallerIDNameSize),
                   offsetof(LINECALLINFO, dwCallerIDNameOffset), c->caller_name);
        put_string(b, total, &used, &needed, offsetof(LINECALLINFO, dwCalledIDSize),
                   offsetof(LINECALLINFO, dwCalledIDOffset), c->called);
        put_string(b, total, &used, &needed, offsetof(LINECALLINFO, dwCalledIDNameSize),
                   offsetof(LINECALLINFO, dwCalledIDNameOffset), c->called_name);
        put_string(b, total, &used, &needed, offsetof(LINECALLINFO, dwConnectedIDSize),
                   offsetof(LINECALLINFO, dwConnectedIDOffset), c->connected);
        put_string(b, total, &used, &needed, offsetof(LINECALLINFO, dwAppNameSize),
                   offsetof(LINECALLINFO, dwAppNameOffset), app_name);
        info->dwNeededSize = needed;
        info->dwUsedSize = used;
        if (needed > total) too_small++;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineGetCallStatus(DWORD hcall, LINECALLSTATUS *status) {
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    FakeCall *c = call_of(hcall);
    if (!c) rc = (LONG)LINEERR_INVALCALLHANDLE;
    else if (status->dwTotalSize < sizeof *status) { rc = (LONG)LINEERR_STRUCTURETOOSMALL; too_small++; }
    else {
        DWORD total = status->dwTotalSize;
        memset(status, 0, sizeof *status);
        status->dwTotalSize = total;
        status->dwNeededSize = status->dwUsedSize = sizeof *status;
        status->dwCallState = c->state;
        status->dwCallStateMode = c->mode;
        status->dwCallPrivilege = c->privilege;
        DWORD f = 0;
        if (c->privilege == PRIV_OWNER) {
            if (c->state & (ST_OFFERING | ST_ACCEPTED)) f = FEATURE_ANSWER | FEATURE_DROP;
            else if (c->state == ST_CONNECTED) f = FEATURE_DROP | FEATURE_HOLD | FEATURE_BLINDTRANSFER;
            else if (c->state == ST_ONHOLD) f = FEATURE_DROP | FEATURE_UNHOLD;
            else if (c->state != ST_IDLE) f = FEATURE_DROP;
            if (lines[c->dev].flags & FAKE_NO_ANSWER) f &= ~(DWORD)FEATURE_ANSWER;
        }
        status->dwCallFeatures = f;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static LONG owned_call(DWORD hcall, FakeCall **out) {
    FakeCall *c = call_of(hcall);
    if (!c) return (LONG)LINEERR_INVALCALLHANDLE;
    if (c->privilege != PRIV_OWNER) return (LONG)LINEERR_NOTOWNER;
    *out = c;
    return 0;
}

EXPORT LONG lineAnswer(DWORD hcall, const char *uui, DWORD size) {
    (void)uui; (void)size;
    pthread_mutex_lock(&mu);
    FakeCall *c = NULL;
    LONG rc = owned_call(hcall, &c);
    if (!rc && !(c->state & (ST_OFFERING | ST_ACCEPTED))) rc = (LONG)LINEERR_INVALCALLSTATE;
    if (!rc && (lines[c->dev].flags & FAKE_NO_ANSWER)) rc = (LONG)LINEERR_OPERATIONUNAVAIL;
    if (!rc) { logf_("lineAnswer %u", hcall); rc = request("lineAnswer", hcall, ST_CONNECTED, 0, 0, 0); }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineDrop(DWORD hcall, const char *uui, DWORD size) {
    (void)uui; (void)size;
    pthread_mutex_lock(&mu);
    FakeCall *c = NULL;
    logf_("lineDrop %u", hcall); /* logged even when refused: tests see every attempt */
    LONG rc = owned_call(hcall, &c);
    if (!rc && c->state == ST_IDLE) rc = (LONG)LINEERR_INVALCALLSTATE;
    if (!rc) rc = request("lineDrop", hcall, ST_IDLE, 0, 0, 0);
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineMakeCallW(DWORD hline, DWORD *hcall, const WCHAR *address, DWORD country, void *params) {
    (void)country; (void)params;
    pthread_mutex_lock(&mu);
    LONG rc = 0;
    FakeLine *l = line_of(hline);
    char dest[128];
    utf16_to_ascii(address, dest, sizeof dest);
    if (!l) rc = (LONG)LINEERR_INVALLINEHANDLE;
    else if (!(l->privileges & PRIV_OWNER)) rc = (LONG)LINEERR_NOTOWNER;
    else {
        if (!strcmp(fail_fn, "lineMakeCallW") && !fail_async) {
            fail_fn[0] = 0;
            rc = (LONG)fail_code;
        } else { /* an async failure is left for request() to take */
            FakeCall *c = new_call((int)(l - lines));
            c->origin = ORIGIN_OUTBOUND;
            snprintf(c->called, sizeof c->called, "%s", dest);
            c->announced_to_app = 1; /* no LINE_APPNEWCALL for the app's own call */
            logf_("lineMakeCallW %s %s", l->name, dest);
            if (late_handle) { /* the HCALL is written with the reply, the first state comes before it */
                set_state(c, ST_PROCEEDING, 0);
                rc = request_out("lineMakeCallW", c->handle, hcall, ST_RINGBACK, 0, 0, 0);
            } else {
                *hcall = c->handle; /* TAPI fills it in; it is valid once the LINE_REPLY says so */
                rc = request("lineMakeCallW", c->handle, ST_PROCEEDING, 0, ST_RINGBACK, 0);
            }
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static LONG simple(const char *fn, DWORD hcall, DWORD need, DWORD next) {
    pthread_mutex_lock(&mu);
    FakeCall *c = NULL;
    LONG rc = owned_call(hcall, &c);
    if (!rc && c->state != need) rc = (LONG)LINEERR_INVALCALLSTATE;
    if (!rc) { logf_("%s %u", fn, hcall); rc = request(fn, hcall, next, 0, 0, 0); }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineHold(DWORD hcall) { return simple("lineHold", hcall, ST_CONNECTED, ST_ONHOLD); }
EXPORT LONG lineUnhold(DWORD hcall) { return simple("lineUnhold", hcall, ST_ONHOLD, ST_CONNECTED); }

EXPORT LONG lineBlindTransferW(DWORD hcall, const WCHAR *address, DWORD country) {
    (void)country;
    pthread_mutex_lock(&mu);
    FakeCall *c = NULL;
    char dest[128];
    utf16_to_ascii(address, dest, sizeof dest);
    LONG rc = owned_call(hcall, &c);
    if (!rc && c->state != ST_CONNECTED && c->state != ST_ONHOLD) rc = (LONG)LINEERR_INVALCALLSTATE;
    if (!rc) {
        logf_("lineBlindTransferW %u %s", hcall, dest);
        rc = request("lineBlindTransferW", hcall, ST_DISCONNECTED, 1 /* NORMAL */, ST_IDLE, 0);
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT LONG lineDeallocateCall(DWORD hcall) {
    pthread_mutex_lock(&mu);
    FakeCall *c = call_of(hcall);
    LONG rc = c ? 0 : (LONG)LINEERR_INVALCALLHANDLE;
    if (c) { c->used = 0; live_calls--; logf_("lineDeallocateCall %u", hcall); }
    pthread_mutex_unlock(&mu);
    return rc;
}

/* ------------------------------------------------------------------ control API (tests) */
EXPORT void fake_reset(void) {
    pthread_mutex_lock(&mu);
    memset(lines, 0, sizeof lines);
    memset(calls, 0, sizeof calls);
    n_lines = n_pending = q_count = q_head = 0;
    initialized = hold_replies = late_handle = 0;
    init_error = 0;
    fail_fn[0] = 0;
    log_text[0] = 0;
    too_small = live_calls = 0;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

EXPORT int fake_add_line(const char *name, DWORD flags) {
    pthread_mutex_lock(&mu);
    int dev = n_lines < MAX_LINES ? n_lines++ : -1;
    if (dev >= 0) { snprintf(lines[dev].name, sizeof lines[dev].name, "%s", name); lines[dev].flags = flags; }
    pthread_mutex_unlock(&mu);
    return dev;
}

EXPORT void fake_set_init_error(DWORD code) { pthread_mutex_lock(&mu); init_error = code; pthread_mutex_unlock(&mu); }

EXPORT void fake_fail_next(const char *fn, DWORD code, int async) {
    pthread_mutex_lock(&mu);
    snprintf(fail_fn, sizeof fail_fn, "%s", fn);
    fail_code = code;
    fail_async = async;
    pthread_mutex_unlock(&mu);
}

EXPORT void fake_late_handle(int on) { pthread_mutex_lock(&mu); late_handle = on; pthread_mutex_unlock(&mu); }

EXPORT void fake_hold_replies(int on) { pthread_mutex_lock(&mu); hold_replies = on; pthread_mutex_unlock(&mu); }

EXPORT int fake_release_replies(void) {
    pthread_mutex_lock(&mu);
    int n = n_pending;
    for (int i = 0; i < n; i++) apply(&pending[i]);
    n_pending = 0;
    pthread_mutex_unlock(&mu);
    return n;
}

/* A call rings on line *dev*: caller (NULL/"" = not known yet, "blocked" = withheld), called (DNIS). */
EXPORT DWORD fake_offer(int dev, const char *caller, const char *caller_name, const char *called, DWORD reason) {
    pthread_mutex_lock(&mu);
    DWORD handle = 0;
    FakeCall *c = (dev >= 0 && dev < n_lines) ? new_call(dev) : NULL;
    if (c) {
        c->origin = 0x4; /* LINECALLORIGIN_EXTERNAL */
        if (reason) c->reason = reason;
        snprintf(c->caller, sizeof c->caller, "%s", caller ? caller : "");
        snprintf(c->caller_name, sizeof c->caller_name, "%s", caller_name ? caller_name : "");
        snprintf(c->called, sizeof c->called, "%s", called ? called : "");
        set_state(c, ST_OFFERING, 1 /* LINEOFFERINGMODE_ACTIVE */);
        handle = c->handle;
    }
    pthread_mutex_unlock(&mu);
    return handle;
}

/* The agent dials on the desk phone itself. */
EXPORT DWORD fake_phone_dials(int dev, const char *number) {
    pthread_mutex_lock(&mu);
    DWORD handle = 0;
    FakeCall *c = (dev >= 0 && dev < n_lines) ? new_call(dev) : NULL;
    if (c) {
        c->origin = ORIGIN_OUTBOUND;
        snprintf(c->called, sizeof c->called, "%s", number);
        set_state(c, ST_DIALING, 0);
        handle = c->handle;
    }
    pthread_mutex_unlock(&mu);
    return handle;
}

/* The caller ID (or name) arrives later: LINE_CALLINFO(LINECALLINFOSTATE_CALLERID). */
EXPORT void fake_set_caller(DWORD hcall, const char *number, const char *name) {
    pthread_mutex_lock(&mu);
    FakeCall *c = call_of(hcall);
    if (c) {
        snprintf(c->caller, sizeof c->caller, "%s", number ? number : "");
        snprintf(c->caller_name, sizeof c->caller_name, "%s", name ? name : "");
        post(c->handle, LINE_CALLINFO, 0x00008000, 0, 0);
    }
    pthread_mutex_unlock(&mu);
}

EXPORT void fake_set_connected(DWORD hcall, const char *number) {
    pthread_mutex_lock(&mu);
    FakeCall *c = call_of(hcall);
    if (c) {
        snprintf(c->connected, sizeof c->connected, "%s", number);
        post(c->handle, LINE_CALLINFO, 0x00020000, 0, 0);
    }
    pthread_mutex_unlock(&mu);
}

/* The TSP reports a new state (the far end answered, hung up …). */
EXPORT void fake_state(DWORD hcall, DWORD state, DWORD mode) {
    pthread_mutex_lock(&mu);
    FakeCall *c = call_of(hcall);
    if (c) set_state(c, state, mode);
    pthread_mutex_unlock(&mu);
}

/* Any message, as a TSP might send it. */
EXPORT void fake_post(DWORD device, DWORD id, DWORD p1, DWORD p2, DWORD p3) {
    pthread_mutex_lock(&mu);
    post(device, id, p1, p2, p3);
    pthread_mutex_unlock(&mu);
}

EXPORT DWORD fake_line_handle(int dev) { return (dev >= 0 && dev < n_lines) ? lines[dev].handle : 0; }
EXPORT DWORD fake_line_privileges(int dev) { return (dev >= 0 && dev < n_lines && lines[dev].handle) ? lines[dev].privileges : 0; }
EXPORT int fake_live_calls(void) { return live_calls; }
EXPORT DWORD fake_last_call(void) { return last_call; }
EXPORT int fake_too_small(void) { return too_small; }
EXPORT int fake_pending_replies(void) { return n_pending; }
EXPORT int fake_initialized(void) { return initialized; }
EXPORT const char *fake_app_name(void) { return app_name; }
EXPORT const char *fake_log(void) { return log_text; }
