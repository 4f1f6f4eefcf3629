package natsx_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/natsx"
	"github.com/httvps/httvps/shared/testkit"
)

func TestFailedConnectDoesNotPrintThePassword(t *testing.T) {
	const password = "s3cret-pass-word"
	port := testkit.FreePort(t)
	url := "nats://control:" + password + "@127.0.0.1:" + itoa(port) + ",nats://only-a-token@127.0.0.1:" + itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := natsx.Connect(ctx, natsx.ConnectConfig{URL: url, Name: "t", Timeout: time.Second}, testkit.Logger(t))
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "only-a-token") {
		t.Fatalf("error shows a credential: %v", err)
	}
	if !strings.Contains(err.Error(), "control:redacted@127.0.0.1") {
		t.Fatalf("error does not name the server: %v", err)
	}
}

func TestURLChecks(t *testing.T) {
	tests := []struct {
		url          string
		tls, hasUser bool
	}{
		{"tls://a:4222,tls://b:4222", true, false},
		{"tls://a:4222,nats://b:4222", false, false},
		{"nats://u:p@a:4222", false, true},
		{"tls://token@a:4222", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := natsx.URLsUseTLS(tt.url); got != tt.tls {
				t.Errorf("URLsUseTLS = %v", got)
			}
			if got := natsx.URLsHaveCredentials(tt.url); got != tt.hasUser {
				t.Errorf("URLsHaveCredentials = %v", got)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
