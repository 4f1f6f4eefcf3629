package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/httvps/httvps/services/gateway/internal/session/memory"
)

func TestInboxFlowControlWindow(t *testing.T) {
	b := newInbox(10, roomy())
	ctx := context.Background()
	if err := b.push(ctx, make([]byte, 6), true, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.push(ctx, make([]byte, 4), true, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.push(ctx, make([]byte, 1), true, time.Second); err == nil || !strings.Contains(err.Error(), "beyond the window") {
		t.Fatalf("err = %v, want a window overrun", err)
	}
	chunk, _, _ := b.pop(ctx)
	b.written(len(chunk))
	if err := b.push(ctx, make([]byte, 1), true, time.Second); err == nil {
		t.Fatal("written but unacknowledged bytes must still count")
	}
	b.acked(6, 0)
	if err := b.push(ctx, make([]byte, 6), true, time.Second); err != nil {
		t.Fatalf("after credit: %v", err)
	}
}

func TestInboxWithoutFlowControlWaitsForSpace(t *testing.T) {
	b := newInbox(10, roomy())
	ctx := context.Background()
	if err := b.push(ctx, make([]byte, 10), false, time.Second); err != nil {
		t.Fatal(err)
	}
	pushed := make(chan error, 1)
	go func() { pushed <- b.push(ctx, make([]byte, 3), false, time.Second) }()
	select {
	case err := <-pushed:
		t.Fatalf("push did not wait for space: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	chunk, _, _ := b.pop(ctx)
	b.written(len(chunk))
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	b.finish()
	if chunk, fin, ok := b.pop(ctx); !ok || fin || len(chunk) != 3 {
		t.Fatalf("pop = %d bytes fin=%v ok=%v, want the queued chunk first", len(chunk), fin, ok)
	}
	b.written(3)
	if _, fin, ok := b.pop(ctx); !ok || !fin {
		t.Fatalf("pop after finish: fin=%v ok=%v", fin, ok)
	}
	if err := b.push(ctx, []byte("x"), false, time.Second); err == nil {
		t.Fatal("push after finish accepted")
	}
	b.close()
	if _, _, ok := b.pop(ctx); ok {
		t.Fatal("pop after close")
	}
}

func roomy() *memory.Budget { return memory.New(1<<30, nil) }

func TestInboxChargesWholeSegments(t *testing.T) {
	tests := []struct {
		name     string
		frames   int
		size     int
		segments int64
	}{
		{"one-byte frames share one segment", 10000, 1, 1},
		{"a full segment and a byte", 2, segmentSize/2 + 1, 2},
		{"nothing queued holds nothing", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.New(1<<30, nil)
			b := newInbox(1<<20, mem)
			ctx := context.Background()
			for range tt.frames {
				if err := b.push(ctx, make([]byte, tt.size), true, time.Second); err != nil {
					t.Fatal(err)
				}
			}
			if got := mem.Used(); got != tt.segments*segmentSize {
				t.Fatalf("charged %d, want %d segments (%d)", got, tt.segments, tt.segments*segmentSize)
			}
			total := 0
			for total < tt.frames*tt.size {
				chunk, _, ok := b.pop(ctx)
				if !ok {
					t.Fatal("pop failed")
				}
				total += len(chunk)
				b.written(len(chunk))
			}
			if mem.Used() != 0 {
				t.Fatalf("%d still charged after everything was written", mem.Used())
			}
			if err := b.push(ctx, []byte("x"), true, time.Second); err != nil {
				t.Fatal(err)
			}
			b.close()
			if mem.Used() != 0 {
				t.Fatalf("%d still charged after close", mem.Used())
			}
		})
	}
}

func TestInboxKeepsOrderAcrossSegments(t *testing.T) {
	b := newInbox(1<<20, roomy())
	ctx := context.Background()
	var want []byte
	for i := range 3000 {
		p := []byte{byte(i), byte(i >> 8), byte(i * 7)}
		want = append(want, p...)
		if err := b.push(ctx, p, true, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	var got []byte
	for len(got) < len(want) {
		chunk, _, _ := b.pop(ctx)
		got = append(got, chunk...)
		b.written(len(chunk))
	}
	if string(got) != string(want) {
		t.Fatal("bytes came out of the inbox in another order")
	}
}

func TestInboxOutOfMemory(t *testing.T) {
	mem := memory.New(segmentSize, nil)
	b := newInbox(1<<20, mem)
	ctx := context.Background()
	if err := b.push(ctx, make([]byte, segmentSize), true, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.push(ctx, []byte("x"), true, 20*time.Millisecond); !errors.Is(err, errNoMemory) {
		t.Fatalf("push beyond the budget = %v, want errNoMemory after the wait", err)
	}
	freed := make(chan error, 1)
	go func() { freed <- b.push(ctx, []byte("y"), true, 10*time.Second) }()
	chunk, _, _ := b.pop(ctx)
	b.written(len(chunk))
	if err := <-freed; err != nil {
		t.Fatalf("push waiting for memory after it was freed: %v", err)
	}
}
