package session

import (
	"fmt"

	"github.com/httvps/httvps/schemas"
)

// Bounds of hello fields, checked before anything of the hello is logged or sent on.
const (
	helloMaxSize     = 4 << 10
	maxIDLength      = 128
	maxTokenLength   = 2048
	maxLabelLength   = 64
	maxHelloFeatures = 16
)

// checkHello refuses a hello whose fields are too long or hold characters that have no place
// in them; the message names the field, never its value.
func checkHello(h schemas.Hello) error {
	fields := []struct {
		name  string
		value string
		max   int
		ok    func(rune) bool
		must  bool
	}{
		{"device_id", h.DeviceID, maxIDLength, tokenRune, true},
		{"region", h.Region, maxIDLength, tokenRune, true},
		{"access_token", h.AccessToken, maxTokenLength, printableRune, true},
		{"client_version", h.ClientVersion, maxLabelLength, printableRune, false},
		{"platform", h.Platform, maxLabelLength, printableRune, false},
	}
	for _, f := range fields {
		if f.must && f.value == "" {
			return fmt.Errorf("hello has no %s", f.name)
		}
		if len(f.value) > f.max {
			return fmt.Errorf("hello %s is longer than %d bytes", f.name, f.max)
		}
		for _, r := range f.value {
			if !f.ok(r) {
				return fmt.Errorf("hello %s holds a character it may not hold", f.name)
			}
		}
	}
	if len(h.Features) > maxHelloFeatures {
		return fmt.Errorf("hello asks for more than %d features", maxHelloFeatures)
	}
	for _, f := range h.Features {
		if len(f) > maxLabelLength {
			return fmt.Errorf("hello feature name longer than %d bytes", maxLabelLength)
		}
	}
	return nil
}

// tokenRune is what may stand in a NATS subject token: device ids and regions become one.
func tokenRune(r rune) bool {
	return r > ' ' && r < 0x7f && r != '.' && r != '*' && r != '>'
}

func printableRune(r rune) bool { return r >= ' ' && r < 0x7f }
