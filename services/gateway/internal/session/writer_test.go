package session

import (
	"context"
	"testing"
	"time"
)

func TestFrameQueueKeepsOrderAcrossGrowth(t *testing.T) {
	var q frameQueue
	in, out := uint32(0), uint32(0)
	take := func() {
		if f := q.pop(); f.streamID != out {
			t.Fatalf("popped stream %d, want %d", f.streamID, out)
		}
		out++
	}
	for round := range 60 {
		for range round % 11 {
			q.push(outFrame{streamID: in})
			in++
		}
		for range round % 4 {
			if q.n > 0 {
				take()
			}
		}
	}
	for q.n > 0 {
		take()
	}
	if out != in {
		t.Fatalf("popped %d of %d frames", out, in)
	}
	q.shrink()
	if q.buf != nil {
		t.Fatalf("an empty queue of %d slots was kept", len(q.buf))
	}
}

func TestWriterHandsFreedSlotsToWaitersInOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &Session{srv: &Server{}, ctx: ctx, cancel: cancel}
	w := newWriter(s)
	for i := range dataQueue {
		if !w.sendStream(outFrame{streamID: uint32(i)}) {
			t.Fatal("sendStream refused")
		}
	}
	const waiters = 5
	sent := make(chan uint32, waiters)
	for i := range waiters {
		id := uint32(1000 + i)
		go func() {
			w.sendStream(outFrame{streamID: id})
			sent <- id
		}()
		deadline := time.Now().Add(5 * time.Second)
		for {
			w.mu.Lock()
			n := len(w.waiting[dataKind])
			w.mu.Unlock()
			if n == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiter %d did not block on the full queue", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i := range dataQueue + waiters {
		f, ok, end := w.next(true)
		if !ok || end {
			t.Fatalf("next %d: ok=%v end=%v", i, ok, end)
		}
		want := uint32(i)
		if i >= dataQueue {
			want = uint32(1000 + i - dataQueue)
		}
		if f.streamID != want {
			t.Fatalf("frame %d is stream %d, want %d", i, f.streamID, want)
		}
	}
	for range waiters {
		<-sent
	}
	if _, ok, _ := w.next(true); ok {
		t.Fatal("the queue should be empty")
	}
}
