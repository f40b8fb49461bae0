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
    default: return "unknown error";
    }
}
