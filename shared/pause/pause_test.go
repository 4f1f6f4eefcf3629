package pause_test

import (
	"context"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/pause"
)

func TestFor(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want bool
	}{
		{"the whole wait", context.Background(), time.Millisecond, true},
		{"an ended context", cancelled, time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pause.For(tt.ctx, tt.d); got != tt.want {
				t.Fatalf("For = %v, want %v", got, tt.want)
			}
		})
	}
}
