package noderegistry

import (
	"sync"

	"github.com/httvps/httvps/schemas"
	"github.com/nats-io/nats.go/micro"
)

// workers runs micro requests on up to n goroutines at once: a micro endpoint alone handles its
// requests one after another. When all are busy the endpoint waits, which pushes back on NATS.
type workers struct {
	slots  chan struct{}
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newWorkers(n int) *workers {
	return &workers{slots: make(chan struct{}, n)}
}

func (w *workers) wrap(h micro.Handler) micro.Handler {
	return micro.HandlerFunc(func(r micro.Request) {
		w.slots <- struct{}{}
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			<-w.slots
			_ = r.Error(string(schemas.CodeBackendUnavailable), "node-registry is shutting down", nil)
			return
		}
		w.wg.Add(1)
		w.mu.Unlock()
		go func() {
			defer w.wg.Done()
			defer func() { <-w.slots }()
			h.Handle(r)
		}()
	})
}

// close refuses requests from now on and waits for those being served.
func (w *workers) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wg.Wait()
}
