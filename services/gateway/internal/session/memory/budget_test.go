package memory

import (
	"context"
	"testing"
	"time"
)

func TestTryCharge(t *testing.T) {
	tests := []struct {
		name      string
		session   int64
		gateway   int64
		held      int64
		charge    int64
		ok        bool
		usedAfter int64
	}{
		{"fits both", 100, 1000, 0, 60, true, 60},
		{"over the session", 100, 1000, 50, 60, false, 50},
		{"over the gateway", 100, 80, 50, 40, false, 50},
		{"exactly full", 100, 1000, 40, 60, true, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := New(tt.gateway, nil)
			s := New(tt.session, gw)
			if tt.held > 0 && !s.TryCharge(tt.held) {
				t.Fatal("setup charge refused")
			}
			if got := s.TryCharge(tt.charge); got != tt.ok {
				t.Fatalf("TryCharge = %v, want %v", got, tt.ok)
			}
			if s.Used() != tt.usedAfter || gw.Used() != tt.usedAfter {
				t.Fatalf("used session %d gateway %d, want %d both", s.Used(), gw.Used(), tt.usedAfter)
			}
		})
	}
}

func TestChargeWaitsForRelease(t *testing.T) {
	gw := New(100, nil)
	a, b := New(100, gw), New(100, gw)
	if !a.TryCharge(90) {
		t.Fatal("setup")
	}
	done := make(chan error, 1)
	go func() { done <- b.Charge(context.Background(), 50) }()
	select {
	case err := <-done:
		t.Fatalf("charge beyond the gateway budget returned %v without waiting", err)
	case <-time.After(50 * time.Millisecond):
	}
	a.Release(90)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if gw.Used() != 50 || b.Used() != 50 || a.Used() != 0 {
		t.Fatalf("used gateway %d a %d b %d", gw.Used(), a.Used(), b.Used())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Charge(ctx, 80); err == nil {
		t.Fatal("a charge that cannot fit returned nil after its context ended")
	}
	if b.Used() != 50 {
		t.Fatalf("a failed charge left %d charged", b.Used()-50)
	}
}
