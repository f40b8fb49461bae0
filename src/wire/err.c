/* err.c - tern_strerror: text for enum tern_err. */
#include "tern/err.h"

const char *tern_strerror(int err)
{
    switch (err) {
    case TERN_OK: return "success";
    case TERN_E_SHORT: return "truncated input";
    case TERN_E_BAD_LEN: return "inconsistent length field";
    case TERN_E_BAD_VERSION: return "unsupported version or type";
    case TERN_E_BAD_CSUM: return "bad checksum";
    case TERN_E_BAD_OPT: return "malformed options";
    case TERN_E_BAD_FLAGS: return "forbidden flag combination";
    case TERN_E_BAD_FIELD: return "forbidden field value";
    case TERN_E_NOSPC: return "output buffer too small";
    case TERN_E_INVAL: return "invalid argument";
    case TERN_E_NOMEM: return "table or memory limit reached";
    case TERN_E_IO: return "I/O error";
    case TERN_E_FORMAT: return "bad file format";
    case TERN_E_EOF: return "end of input";
    case TERN_E_UNSUPPORTED: return "unsupported";
    case TERN_E_AGAIN: return "resource temporarily unavailable";
    case TERN_E_ADDRINUSE: return "address already in use";
    case TERN_E_ADDRNOTAVAIL: return "cannot assign requested address";
    case TERN_E_ACCES: return "permission denied";
    case TERN_E_CONNREFUSED: return "connection refused";
    case TERN_E_CONNRESET: return "connection reset by peer";
    case TERN_E_NOTCONN: return "not connected";
    case TERN_E_ISCONN: return "already connected";
    case TERN_E_MSGSIZE: return "message too long";
    case TERN_E_INPROGRESS: return "operation in progress";
    case TERN_E_ALREADY: return "operation already in progress";
    case TERN_E_TIMEDOUT: return "timed out";
    case TERN_E_HOSTUNREACH: return "no route to host";
    case TERN_E_NETUNREACH: return "network is unreachable";
    case TERN_E_PIPE: return "broken pipe";
    case TERN_E_DESTADDRREQ: return "destination address required";
    case TERN_E_OPNOTSUPP: return "operation not supported";
    case TERN_E_NOTFOUND: return "not found";
    default: return "unknown error";
    }
}
