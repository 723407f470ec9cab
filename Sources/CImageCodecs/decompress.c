#include "image_codecs.h"

#include <stdlib.h>
#include <sys/xattr.h>
#include <zlib.h>
#include <zstd.h>

struct pod_decompressor {
    int kind;
    int ended; /* gzip: the last member ended; more input starts a new one */
    z_stream gz;
    ZSTD_DStream *zs;
};

pod_decompressor *pod_decompressor_new(int kind) {
    pod_decompressor *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    d->kind = kind;
    if (kind == POD_CODEC_GZIP) {
        /* 15 + 32: a window of 32 KiB, and the gzip (or zlib) header detected. */
        if (inflateInit2(&d->gz, 15 + 32) != Z_OK) {
            free(d);
            return NULL;
        }
    } else if (kind == POD_CODEC_ZSTD) {
        d->zs = ZSTD_createDStream();
        if (d->zs == NULL) {
            free(d);
            return NULL;
        }
        ZSTD_initDStream(d->zs);
    } else {
        free(d);
        return NULL;
    }
    return d;
}

int pod_decompress(pod_decompressor *d, const void *in, size_t in_len, size_t *in_used, void *out,
                   size_t out_cap, size_t *out_len) {
    *in_used = 0;
    *out_len = 0;
    if (d->kind == POD_CODEC_GZIP) {
        if (d->ended && in_len > 0) {
            /* Concatenated gzip members (pigz, appended archives) are one stream, as gzip -d
             * reads them. */
            if (inflateReset(&d->gz) != Z_OK) return POD_DECOMPRESS_ERROR;
            d->ended = 0;
        }
        if (d->ended) return POD_DECOMPRESS_END;
        d->gz.next_in = (Bytef *)in;
        d->gz.avail_in = (uInt)in_len;
        d->gz.next_out = (Bytef *)out;
        d->gz.avail_out = (uInt)out_cap;
        int rc = inflate(&d->gz, Z_NO_FLUSH);
        *in_used = in_len - d->gz.avail_in;
        *out_len = out_cap - d->gz.avail_out;
        if (rc == Z_STREAM_END) {
            d->ended = 1;
            return POD_DECOMPRESS_END;
        }
        if (rc == Z_OK || rc == Z_BUF_ERROR) return POD_DECOMPRESS_MORE;
        return POD_DECOMPRESS_ERROR;
    }
    ZSTD_inBuffer input = {in, in_len, 0};
    ZSTD_outBuffer output = {out, out_cap, 0};
    size_t rc = ZSTD_decompressStream(d->zs, &output, &input);
    *in_used = input.pos;
    *out_len = output.pos;
    if (ZSTD_isError(rc)) return POD_DECOMPRESS_ERROR;
    return rc == 0 ? POD_DECOMPRESS_END : POD_DECOMPRESS_MORE;
}

const char *pod_decompress_error(pod_decompressor *d) {
    if (d->kind == POD_CODEC_GZIP) return d->gz.msg != NULL ? d->gz.msg : "invalid gzip data";
    return "invalid zstd data";
}

void pod_decompressor_free(pod_decompressor *d) {
    if (d == NULL) return;
    if (d->kind == POD_CODEC_GZIP) inflateEnd(&d->gz);
    if (d->zs != NULL) ZSTD_freeDStream(d->zs);
    free(d);
}

int pod_fsetxattr(int fd, const char *name, const void *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}

long pod_getxattr(const char *path, const char *name, void *value, size_t size) {
    return (long)getxattr(path, name, value, size);
}
