/*
 * pjproject compile-time settings for callsys's own pjsua2 build (scripts/build-pjsua2).
 *
 * A call-centre softphone: one agent, several lines, many calls in a shift, PBXs and trunks that
 * send long INVITEs (many codecs, ICE candidates, SRTP crypto lines), and a network that may send
 * anything. The PyPI wheel (pjsua2-python) is built with pjproject's defaults: 4 calls, 4,000-byte
 * packets, 64 sockets through select(). Changing this file changes the build's cache key, so the
 * next `scripts/setup` builds again.
 */

/* Calls: an agent holds, transfers and consults; a supervisor barges. */
#define PJSUA_MAX_CALLS                 32
#define PJSUA_MAX_ACC                   16
#define PJSUA_MAX_CONF_PORTS            (PJSUA_MAX_CALLS * 2 + 32)

/* 16 KB SIP messages, and buffers that hold one whole (received data and transmit data pools). */
#define PJSIP_MAX_PKT_LEN               16384
#define PJSIP_POOL_RDATA_LEN            (PJSIP_MAX_PKT_LEN + 4000)
#define PJSIP_POOL_RDATA_INC            4000
#define PJSIP_POOL_LEN_TDATA            (PJSIP_MAX_PKT_LEN + 4000)
#define PJSIP_POOL_INC_TDATA            4000

/* SDP: an offer with many codecs, ICE candidates and SRTP crypto lines. By default pjmedia keeps
 * 32 formats and 68 attributes per media line and silently drops the rest (the codec the
 * answer needs may be among them). */
#define PJMEDIA_MAX_SDP_FMT             64
#define PJMEDIA_MAX_SDP_ATTR            256

/* Sockets: epoll (configure --enable-epoll) with room for many connections; SIP transports may
 * use them all. A TCP/TLS connection that sends no SIP message within 30 s is closed, so
 * half-open connections cannot use the handles up; a deeper accept() backlog. */
#define PJ_IOQUEUE_MAX_HANDLES          4096
#define PJSIP_TRANSPORT_SERVER_IDLE_TIME_FIRST  30
#define PJSIP_TCP_INITIAL_TIMEOUT       30
#define PJSIP_TCP_TRANSPORT_BACKLOG     128
#define PJSIP_TLS_TRANSPORT_BACKLOG     128

/* TLS: pjsip offers TLS 1.0-1.2 by default even where OpenSSL has 1.3; offer 1.2 and 1.3. */
#define PJSIP_SSL_DEFAULT_PROTO         (PJ_SSL_SOCK_PROTO_TLS1_2 | PJ_SSL_SOCK_PROTO_TLS1_3)

/* Media: SRTP (bundled libsrtp), no video. Sound devices through pjmedia's own ALSA backend and
 * TLS through the system's OpenSSL 3 (TLS 1.3) are chosen by configure (libasound2-dev, libssl-dev). */
#define PJMEDIA_HAS_SRTP                1
#define PJMEDIA_HAS_VIDEO               0
