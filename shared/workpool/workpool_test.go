package workpool_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/testkit"
	"github.com/httvps/httvps/shared/workpool"
)

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
			testkit.Eventually(t, 10*time.Second, "idle goroutines", func() bool { return p.Idle() == tt.wantIdle })
			testkit.Eventually(t, 10*time.Second, "idle goroutines to exit", func() bool { return p.Idle() == 0 && runtime.NumGoroutine() <= base })
		})
	}
}

func TestAnIdleGoroutineTakesTheNextTask(t *testing.T) {
	p := workpool.New(4, 200*time.Millisecond)
	var wg sync.WaitGroup
	p.GoIn(&wg, func() {})
	wg.Wait()
	testkit.Eventually(t, 10*time.Second, "an idle goroutine", func() bool { return p.Idle() == 1 })
	p.GoIn(&wg, func() {})
	wg.Wait()
	testkit.Eventually(t, 10*time.Second, "the goroutine to be idle again", func() bool { return p.Idle() == 1 })
	testkit.Eventually(t, 10*time.Second, "the idle goroutine to exit", func() bool { return p.Idle() == 0 })
}
