package natsx

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"
)

// Auth is how a process proves who it is to NATS and checks the server: an nkey seed file, the
// CA that signed the servers' certificates, an optional client certificate, and the inbox prefix
// its identity may subscribe to.
type Auth struct {
	NkeyFile    string
	CAFile      string
	CertFile    string
	KeyFile     string
	InboxPrefix string
}

func (a Auth) Options() ([]nats.Option, error) {
	var opts []nats.Option
	if a.NkeyFile != "" {
		opt, err := nats.NkeyOptionFromSeed(a.NkeyFile)
		if err != nil {
			return nil, fmt.Errorf("nkey seed %s: %w", a.NkeyFile, err)
		}
		opts = append(opts, opt)
	}
	if a.CAFile != "" {
		opts = append(opts, nats.RootCAs(a.CAFile))
	}
	if a.CertFile != "" || a.KeyFile != "" {
		opts = append(opts, nats.ClientCert(a.CertFile, a.KeyFile))
	}
	if a.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(a.InboxPrefix))
	}
	return opts, nil
}

// RedactURLs replaces the password of every URL in a comma-separated NATS server list.
func RedactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = redactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if at := strings.LastIndex(raw, "@"); at >= 0 {
			return "[redacted]@" + raw[at+1:]
		}
		return raw
	}
	if u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	} else {
		u.User = url.User("redacted")
	}
	return u.String()
}

// URLsUseTLS reports whether every URL of the list asks for TLS (tls:// or wss://).
func URLsUseTLS(list string) bool {
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if !strings.HasPrefix(p, "tls://") && !strings.HasPrefix(p, "wss://") {
			return false
		}
	}
	return true
}

// URLsHaveCredentials reports whether any URL of the list carries a user or token.
func URLsHaveCredentials(list string) bool {
	for _, p := range strings.Split(list, ",") {
		if u, err := url.Parse(strings.TrimSpace(p)); err != nil || u.User != nil {
			return true
		}
	}
	return false
}
