package db

import (
	"errors"
	"net/url"
)

const redacted = "xxxxx"

var (
	errDSNNotURL = errors.New("not a postgres:// or postgresql:// URL")
	errDSNSyntax = errors.New("malformed URL")
	secretParams = []string{"password", "sslpassword"}
)

// RedactDSN returns dsn with its password replaced, safe to log. A DSN that
// does not parse as a URL is replaced entirely.
func RedactDSN(dsn string) string {
	u, err := parseDSN(dsn)
	if err != nil {
		return "[unparseable DSN]"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
	}
	q := u.Query()
	changed := false
	for _, key := range secretParams {
		if q.Has(key) {
			q.Set(key, redacted)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// parseDSN parses dsn without ever putting it into an error message.
func parseDSN(dsn string) (*url.URL, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, errDSNSyntax
	}
	if (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" {
		return nil, errDSNNotURL
	}
	return u, nil
}
