/* tls_conf - fill struct tls_settings from the tls_* keys of tern.conf. */
#include "conf.h"
#include "tls.h"

void
tls_settings_from_conf(struct tls_settings *s)
{
	tls_settings_defaults(s);
	s->cert_file = conf_str("tls_cert_file");
	s->key_file = conf_str("tls_key_file");
	s->chain_file = conf_str("tls_chain_file");
	s->min_protocol = conf_str("tls_min_protocol");
	s->ciphers = conf_str("tls_ciphers");
	s->ciphersuites = conf_str("tls_ciphersuites");
	s->session_cache_size = (long)conf_int("tls_session_cache_size");
	s->session_timeout_s = (long)(conf_time_ms("tls_session_timeout") / 1000);
	if (*conf_str("tls_ca_file") != '\0')
		s->ca_file = conf_str("tls_ca_file");
	s->verify_peer = conf_bool("tls_verify_peer");
}
