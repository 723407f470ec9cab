#include "image_codecs.h"

#include <openssl/evp.h>

struct pod_sha256 {
    EVP_MD_CTX *ctx;
};

pod_sha256 *pod_sha256_new(void) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return NULL;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    pod_sha256 *hash = OPENSSL_malloc(sizeof *hash);
    if (hash == NULL) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    hash->ctx = ctx;
    return hash;
}

void pod_sha256_update(pod_sha256 *hash, const void *bytes, size_t count) {
    EVP_DigestUpdate(hash->ctx, bytes, count);
}

int pod_sha256_final(pod_sha256 *hash, uint8_t out[32]) {
    unsigned int length = 0;
    return EVP_DigestFinal_ex(hash->ctx, out, &length) == 1 && length == 32 ? 0 : -1;
}

void pod_sha256_free(pod_sha256 *hash) {
    if (hash == NULL) return;
    EVP_MD_CTX_free(hash->ctx);
    OPENSSL_free(hash);
}
