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

#endif
