// What images need from C libraries Debian ships: libcrypto's SHA-256 (hardware-accelerated,
// for verifying blobs while they stream), zlib and zstd (layer decompression).
#ifndef PODD_IMAGE_CODECS_H
#define PODD_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

/// A running SHA-256. NULL from pod_sha256_new when libcrypto cannot make one.
typedef struct pod_sha256 pod_sha256;

pod_sha256 *pod_sha256_new(void);
void pod_sha256_update(pod_sha256 *hash, const void *bytes, size_t count);
/// Writes the 32-byte digest of everything fed so far; the hash may not be fed again.
int pod_sha256_final(pod_sha256 *hash, uint8_t out[32]);
void pod_sha256_free(pod_sha256 *hash);

/// A streaming decompressor of layer blobs: gzip (concatenated members too) or zstd.
typedef struct pod_decompressor pod_decompressor;

enum { POD_CODEC_GZIP = 1, POD_CODEC_ZSTD = 2 };
enum { POD_DECOMPRESS_ERROR = -1, POD_DECOMPRESS_MORE = 0, POD_DECOMPRESS_END = 1 };

pod_decompressor *pod_decompressor_new(int kind);
/// Consumes up to in_len bytes of input (*in_used says how many) and writes up to out_cap
/// bytes of output (*out_len). POD_DECOMPRESS_END when a complete stream has been decoded.
int pod_decompress(pod_decompressor *d, const void *in, size_t in_len, size_t *in_used, void *out,
                   size_t out_cap, size_t *out_len);
/// What went wrong after POD_DECOMPRESS_ERROR.
const char *pod_decompress_error(pod_decompressor *d);
void pod_decompressor_free(pod_decompressor *d);

/// fsetxattr(2), which Swift's Glibc module does not export: a layer member's xattrs and
/// overlayfs's opaque marker.
int pod_fsetxattr(int fd, const char *name, const void *value, size_t size);

/// getxattr(2), likewise (tests read the markers the unpacker set).
long pod_getxattr(const char *path, const char *name, void *value, size_t size);

#endif
