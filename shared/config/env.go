// Package config reads HTTVPS_* settings from the environment and validates them.
package config

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

const Prefix = "HTTVPS_"

type Env struct {
	lookup      func(string) (string, bool)
	errs        []error
	known       map[string]struct{}
	defaultMode string
	mode        string
}

func FromOS() *Env { return New(os.LookupEnv) }

// FromMap reads the map; unlike the process environment it defaults to development mode, for
// tests and for values layered under the environment.
func FromMap(m map[string]string) *Env {
	env := New(func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	})
	env.defaultMode = ModeDevelopment
	return env
}

// New reads settings through lookup, in production mode unless HTTVPS_ENV says otherwise.
func New(lookup func(string) (string, bool)) *Env {
	return &Env{lookup: lookup, known: map[string]struct{}{}, defaultMode: ModeProduction}
}

func (e *Env) raw(name string) (string, bool) {
	e.known[name] = struct{}{}
	v, ok := e.lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return strings.TrimSpace(v), true
}

func (e *Env) fail(name, value, want string) {
	e.errs = append(e.errs, fmt.Errorf("%s=%q: %s", name, value, want))
}

func (e *Env) Failf(name, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (e *Env) String(name, def string) string {
	if v, ok := e.raw(name); ok {
		return v
	}
	return def
}

func (e *Env) Required(name string) string {
	v, ok := e.raw(name)
	if !ok {
		e.errs = append(e.errs, errRequired(name))
	}
	return v
}

func (e *Env) Int(name string, def, min, max int) int {
	v, ok := e.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		e.fail(name, v, fmt.Sprintf("must be a whole number from %d to %d", min, max))
		return def
	}
	return n
}

func (e *Env) OneOf(name, def string, allowed ...string) string {
	v := e.String(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.fail(name, v, "must be one of "+strings.Join(allowed, ", "))
	return def
}

func (e *Env) Duration(name string, def, min time.Duration) time.Duration {
	v, ok := e.raw(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		e.fail(name, v, fmt.Sprintf("must be a duration such as 10s or 1m, at least %s", min))
		return def
	}
	return d
}

func (e *Env) Bool(name string, def bool) bool {
	v, ok := e.raw(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(name, v, "must be true or false")
		return def
	}
	return b
}

func (e *Env) HostPort(name, def string) string {
	v := e.String(name, def)
	if v == "" {
		return v
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		e.fail(name, v, "must be host:port")
		return def
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		e.fail(name, v, "port must be 0 to 65535")
		return def
	}
	_ = host
	return v
}

func (e *Env) List(name string, def []string) []string {
	v, ok := e.raw(name)
	if !ok {
		return def
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return fmt.Errorf("config: %s", strings.Join(msgs, "; "))
}

func (e *Env) Known() []string {
	out := make([]string, 0, len(e.known))
	for k := range e.known {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func errRequired(name string) error { return fmt.Errorf("%s: is required", name) }
