package workpool_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/workpool"
)

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestTasksRunAndIdleGoroutinesExit(t *testing.T) {
	tests := []struct {
		name     string
		maxIdle  int
		tasks    int
		wantIdle int
	}{
		{"fewer tasks than idle slots", 8, 3, 3},
		{"more tasks than idle slots", 2, 10, 2},
		{"no idle slots", 0, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			p := workpool.New(tt.maxIdle, 50*time.Millisecond)
			var wg sync.WaitGroup
			release := make(chan struct{})
			var mu sync.Mutex
			ran := 0
			for range tt.tasks {
				p.GoIn(&wg, func() {
					<-release
					mu.Lock()
					ran++
					mu.Unlock()
				})
			}
			close(release)
			wg.Wait()
			if ran != tt.tasks {
				t.Fatalf("%d tasks ran, want %d", ran, tt.tasks)
			}
			waitFor(t, "idle goroutines", func() bool { return p.Idle() == tt.wantIdle })
			waitFor(t, "idle goroutines to exit", func() bool { return p.Idle() == 0 && runtime.NumGoroutine() <= base })
		})
	}
}

func TestAnIdleGoroutineTakesTheNextTask(t *testing.T) {
	p := workpool.New(4, 200*time.Millisecond)
	var wg sync.WaitGroup
	p.GoIn(&wg, func() {})
	wg.Wait()
	waitFor(t, "an idle goroutine", func() bool { return p.Idle() == 1 })
	p.GoIn(&wg, func() {})
	wg.Wait()
	waitFor(t, "the goroutine to be idle again", func() bool { return p.Idle() == 1 })
	waitFor(t, "the idle goroutine to exit", func() bool { return p.Idle() == 0 })
}
