package flow

import (
	"testing"
	"time"
)

var drained = Use{}

func TestWindowGrants(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name      string
		initial   int
		max       int
		budget    int
		steps     []int
		use       Use
		rtt       time.Duration
		gap       time.Duration
		wantSize  int
		wantTotal int
	}{
		{"below a quarter holds credit back", 1000, 1000, 0, []int{100, 100}, Use{}, time.Millisecond, 0, 1000, 0},
		{"a quarter grants it", 1000, 1000, 0, []int{100, 150}, Use{}, time.Millisecond, 0, 1000, 250},
		{"flush grants what is pending", 1000, 1000, 0, []int{10}, Use{Flush: true}, time.Millisecond, 0, 1000, 10},
		{"fast drained consumption doubles to max", 1000, 4000, 1 << 20, []int{600, 600, 1200, 1200, 2400}, drained, time.Millisecond, 0, 4000, 6000 + 3000},
		{"a consumer that falls behind keeps the window", 1000, 4000, 1 << 20, []int{600, 600, 600}, Use{Buffered: 600}, time.Millisecond, 0, 1000, 1800},
		{"a little buffered still keeps up", 1000, 4000, 1 << 20, []int{600}, Use{Buffered: 250}, time.Millisecond, 0, 2000, 1600},
		{"slow consumption keeps the window", 1000, 4000, 1 << 20, []int{600, 600, 600}, drained, time.Millisecond, time.Second, 1000, 1800},
		{"a long round trip counts as fast", 1000, 4000, 1 << 20, []int{600}, drained, time.Second, time.Second, 2000, 1600},
		{"budget caps growth", 1000, 1 << 20, 500, []int{600, 600, 600}, drained, time.Millisecond, 0, 1500, 1800 + 500},
		{"no budget no growth", 1000, 4000, 0, []int{600, 600}, drained, time.Millisecond, 0, 1000, 1200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBudget(tt.budget)
			w := NewWindow(tt.initial, tt.max, b, t0)
			now, total := t0, 0
			for _, n := range tt.steps {
				now = now.Add(tt.gap)
				credit, _ := w.Consumed(n, tt.use, tt.rtt, now)
				total += credit
			}
			if got := w.Size(); got != tt.wantSize {
				t.Errorf("size %d, want %d", got, tt.wantSize)
			}
			if total != tt.wantTotal {
				t.Errorf("granted %d, want %d", total, tt.wantTotal)
			}
			w.Close()
			if b.Free() != tt.budget {
				t.Errorf("budget after close %d, want %d back", b.Free(), tt.budget)
			}
		})
	}
}

func TestWindowsShareTheBudget(t *testing.T) {
	b := NewBudget(3000)
	now := time.Unix(0, 0)
	a, c := NewWindow(1000, 8000, b, now), NewWindow(1000, 8000, b, now)
	for range 10 {
		a.Consumed(a.Size(), drained, time.Second, now)
		c.Consumed(c.Size(), drained, time.Second, now)
	}
	if got := a.Size() + c.Size() - 2000; got != 3000 {
		t.Fatalf("growth %d, want the whole budget of 3000", got)
	}
	if b.Free() != 0 {
		t.Fatalf("budget left %d", b.Free())
	}
	a.Close()
	a.Close()
	if b.Free() != a.Size()-1000 {
		t.Fatalf("budget after one close %d, want %d", b.Free(), a.Size()-1000)
	}
}
