package udp

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	start := time.Unix(0, 0)
	b := newBucket(3, start)
	tests := []struct {
		name  string
		at    time.Duration
		takes int
		want  int
	}{
		{"a full second's worth at once", 0, 5, 3},
		{"nothing left at the same instant", 0, 1, 0},
		{"a third of a second earns one", time.Second/3 + time.Millisecond, 2, 1},
		{"a long pause refills no more than the rate", 10 * time.Second, 5, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := 0
			for range tt.takes {
				if b.take(start.Add(tt.at)) {
					got++
				}
			}
			if got != tt.want {
				t.Fatalf("took %d of %d, want %d", got, tt.takes, tt.want)
			}
		})
	}
}
