package usageaggregator

import "testing"

func TestGrantSize(t *testing.T) {
	tests := []struct {
		name                 string
		want, available, min int64
		live                 int
		grant                int64
	}{
		{"plenty left: all that is asked", 8 << 20, 1 << 40, 64 << 10, 1, 8 << 20},
		{"little left: shared between sessions", 8 << 20, 4 << 20, 64 << 10, 4, 1 << 20},
		{"share below min: min", 8 << 20, 128 << 10, 64 << 10, 4, 64 << 10},
		{"less than min left: the rest", 8 << 20, 1000, 64 << 10, 4, 1000},
		{"nothing left", 8 << 20, 0, 64 << 10, 1, 0},
		{"over the limit", 8 << 20, -5, 64 << 10, 1, 0},
		{"nothing asked", 0, 1 << 30, 64 << 10, 1, 0},
		{"no live count", 100, 50, 1, 0, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := grantSize(tt.want, tt.available, tt.min, tt.live); got != tt.grant {
				t.Fatalf("grantSize = %d, want %d", got, tt.grant)
			}
		})
	}
}
