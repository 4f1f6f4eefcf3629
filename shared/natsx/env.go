package natsx

import (
	"strconv"

	"github.com/httvps/httvps/shared/config"
)

const (
	EnvURL      = "HTTVPS_NATS_URL"
	EnvNkeyFile = "HTTVPS_NATS_NKEY_FILE"
	EnvCAFile   = "HTTVPS_NATS_CA_FILE"
	EnvCertFile = "HTTVPS_NATS_CERT_FILE"
	EnvKeyFile  = "HTTVPS_NATS_KEY_FILE"
	EnvReplicas = "HTTVPS_NATS_REPLICAS"

	DefaultURL = "nats://127.0.0.1:4222"
)

// LoadClient reads the NATS URL and identity of one process; inbox is the prefix its identity
// may subscribe to. Production refuses NATS without TLS, without an nkey, or with a password in
// the URL (shared, and printed by process listings).
func LoadClient(env *config.Env, url, inbox string) (string, Auth) {
	u := env.String(EnvURL, url)
	a := Auth{
		NkeyFile:    env.String(EnvNkeyFile, ""),
		CAFile:      env.String(EnvCAFile, ""),
		CertFile:    env.String(EnvCertFile, ""),
		KeyFile:     env.String(EnvKeyFile, ""),
		InboxPrefix: inbox,
	}
	Check(env, u, a)
	return u, a
}

// Check records what is wrong with a NATS client setting in env; production refuses NATS without
// TLS, without an nkey, or with a password in the URL.
func Check(env *config.Env, u string, a Auth) {
	if (a.CertFile == "") != (a.KeyFile == "") {
		env.Failf(EnvCertFile, "give both %s and %s, or neither", EnvCertFile, EnvKeyFile)
	}
	if !env.Production() {
		return
	}
	switch {
	case URLsHaveCredentials(u):
		env.Refuse(EnvURL, "carries a user or password; give the identity's nkey seed in %s", EnvNkeyFile)
	case a.NkeyFile == "":
		env.Refuse(EnvNkeyFile, "is required: NATS without credentials")
	}
	if !URLsUseTLS(u) && a.CAFile == "" {
		env.Refuse(EnvURL, "%s is plain text; use tls:// URLs or set %s", RedactURLs(u), EnvCAFile)
	}
}

// LoadStreams reads the stream settings every provisioner shares: DefaultStreams at
// HTTVPS_NATS_REPLICAS (1 or 3) replicas.
func LoadStreams(env *config.Env, replicas int) StreamsConfig {
	c := DefaultStreams()
	c.Replicas, _ = strconv.Atoi(env.OneOf(EnvReplicas, strconv.Itoa(replicas), "1", "3"))
	return c
}
