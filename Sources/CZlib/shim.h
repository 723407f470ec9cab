// zlib for SPDY/3's header-block compression (PodAPI/SPDY). deflateInit and inflateInit are
// macros, which Swift cannot call: these wrappers are.
#include <zlib.h>

static inline int czlib_deflate_init(z_stream *stream, int level) {
    return deflateInit(stream, level);
}

static inline int czlib_inflate_init(z_stream *stream) {
    return inflateInit(stream);
}
