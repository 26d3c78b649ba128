/*
 * cache - remember recently verified passwords, so that a client that
 * logs in again and again (IMAP clients reconnect all the time) costs an
 * HMAC instead of a memory-hard hash.
 *
 * An entry is HMAC-SHA256(per-process random key, user NUL stored hash
 * NUL password): the password itself is never kept, and a changed password
 * (a new stored hash) can never hit an old entry.  Only successes are
 * kept; a wrong password always pays the full hash.  The table is
 * direct-mapped with auth_cache_size slots and entries expire after
 * auth_cache_ttl, so memory is fixed and an entry is never older than
 * that.  Each auth worker has its own cache.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "conf.h"
#include "xalloc.h"

struct cache_entry {
	unsigned char mac[32];
	long long expires_ms;      /* 0: empty */
};

static struct {
	struct cache_entry *slots;
	size_t n;
	long long ttl_ms;
	unsigned char key[32];
} cache;

static long long
cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cache_init(void)
{
	cache_exit();
	cache.n = (size_t)conf_int("auth_cache_size");
	cache.ttl_ms = conf_time_ms("auth_cache_ttl");
	if (cache.n == 0 || cache.ttl_ms == 0) {
		cache.n = 0;
		return;
	}
	if (RAND_bytes(cache.key, sizeof(cache.key)) != 1)
		die("auth: no randomness for the login cache key");
	cache.slots = xcalloc(cache.n, sizeof(*cache.slots));
}

void
cache_exit(void)
{
	if (cache.slots != NULL)
		OPENSSL_cleanse(cache.slots, cache.n * sizeof(*cache.slots));
	xfree(&cache.slots);
	OPENSSL_cleanse(cache.key, sizeof(cache.key));
	cache.n = 0;
}

static void
cache_mac(const char *user, const char *hash, const char *password,
    unsigned char mac[32])
{
	size_t ul = strlen(user) + 1, hl = strlen(hash) + 1;
	size_t pl = strlen(password);
	unsigned char *msg = xmalloc(ul + hl + pl);
	unsigned int len = 32;

	memcpy(msg, user, ul);
	memcpy(msg + ul, hash, hl);
	memcpy(msg + ul + hl, password, pl);
	if (HMAC(EVP_sha256(), cache.key, sizeof(cache.key), msg,
	    ul + hl + pl, mac, &len) == NULL)
		die("auth: HMAC failed");
	OPENSSL_cleanse(msg, ul + hl + pl);
	free(msg);
}

static struct cache_entry *
cache_slot(const unsigned char mac[32])
{
	size_t idx;

	memcpy(&idx, mac, sizeof(idx));
	return &cache.slots[idx % cache.n];
}

bool
cache_hit(const char *user, const char *hash, const char *password)
{
	unsigned char mac[32];
	struct cache_entry *e;

	if (cache.n == 0)
		return false;
	cache_mac(user, hash, password, mac);
	e = cache_slot(mac);
	return e->expires_ms > cache_now_ms() &&
	    CRYPTO_memcmp(e->mac, mac, sizeof(mac)) == 0;
}

void
cache_store(const char *user, const char *hash, const char *password)
{
	unsigned char mac[32];
	struct cache_entry *e;

	if (cache.n == 0)
		return;
	cache_mac(user, hash, password, mac);
	e = cache_slot(mac);
	memcpy(e->mac, mac, sizeof(mac));
	e->expires_ms = cache_now_ms() + cache.ttl_ms;
}
