/* Digests of what a cloud backend sends and receives: a file's MD5 (which
 * the service checks), SHA-256 and XXH128 (which pgrescue records in the
 * object's metadata) in one read before an upload, and the check of a
 * download against what was recorded with the object, computed while it
 * streams. XXH128 (xxHash's XXH3, tens of GB/s) is what downloads are
 * checked against: damage in the store or on the way, at no cost to the
 * transfer; SHA-256 (1.4 GB/s with SHA instructions, a third of that
 * without) is the manifest's, for anyone to check with sha256sum. */
#ifndef PGR_STORAGE_DIGEST_H
#define PGR_STORAGE_DIGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "storage/http.h"

/* The digests of a whole object recorded with it: SHA-256 and XXH128. */
struct pgr_obj_digest;
struct pgr_obj_digest *pgr_obj_digest_new(void);
void pgr_obj_digest_update(struct pgr_obj_digest *d, const void *data, size_t len);
/* Hex of both; frees D. */
void pgr_obj_digest_final(struct pgr_obj_digest *d, char sha256[65], char xxh128[33]);

/* MD5 (md5 non-NULL: 16 bytes out) and the object's digests (whole
 * non-NULL: updated, the caller finishes them) of LEN bytes of PATH from
 * OFF, in one read; false on a read error or a file shorter than asked. */
bool pgr_digest_file(const char *path, uint64_t off, uint64_t len, unsigned char md5[16], struct pgr_obj_digest *whole,
                     struct pgr_error *err);
/* Whether S is 32 lowercase hex digits (an XXH128 as recorded). */
bool pgr_is_xxh128_hex(const char *s);
void pgr_md5_hex(const unsigned char md5[16], char hex[33]);
void pgr_md5_b64(const unsigned char md5[16], char b64[25]);

/* What a download is checked against, as its answer's headers state it. */
enum pgr_dl_kind { PGR_DL_NONE, PGR_DL_XXH128, PGR_DL_SHA256, PGR_DL_MD5 };

struct pgr_dl_want {
	enum pgr_dl_kind kind;
	char *hex; /* the digest, lowercase hex */
	char *shown; /* as the service gave it, for messages */
	bool b64; /* shown in base64 (Azure's Content-MD5) */
	char *source; /* the header that gave it, for messages */
};

/* Picks the check from one answer's complete headers; leaves want at
 * PGR_DL_NONE when there is nothing to compare with. Set it with
 * pgr_dl_want_set: HEX the digest, B64 (NULL: none) how the service wrote
 * it when not in hex, SOURCE where it came from. */
typedef void (*pgr_dl_choose_fn)(const struct pgr_http_resp *resp, struct pgr_dl_want *want);
void pgr_dl_want_set(struct pgr_dl_want *want, enum pgr_dl_kind kind, const char *hex, const char *b64,
                     const char *source);

struct pgr_dl_check {
	const struct pgr_http_resp *resp;
	pgr_dl_choose_fn choose;
	struct pgr_dl_want want;
	void *md; /* EVP_MD_CTX */
	void *xxh; /* XXH3_state_t */
};

/* Hooks the check into REQ (on_data, data_beside): the digest is chosen
 * again at each attempt's start; XXH128 and SHA-256 run in the writes, MD5
 * (slower than the network) beside the download. */
void pgr_dl_check_init(struct pgr_dl_check *k, const struct pgr_http_resp *resp, pgr_dl_choose_fn choose);
void pgr_dl_check_attach(struct pgr_dl_check *k, struct pgr_http_req *req);
/* After a complete download: whether the data matched; false with an error
 * "WHAT: the data's ... is X, ... is Y" and a HINT. */
bool pgr_dl_check_end(struct pgr_dl_check *k, const char *what, struct pgr_error *err);
void pgr_dl_check_free(struct pgr_dl_check *k);

#endif
