package session

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestInboxFlowControlWindow(t *testing.T) {
	b := newInbox(10)
	ctx := context.Background()
	if err := b.push(ctx, make([]byte, 6), true); err != nil {
		t.Fatal(err)
	}
	if err := b.push(ctx, make([]byte, 4), true); err != nil {
		t.Fatal(err)
	}
	if err := b.push(ctx, make([]byte, 1), true); err == nil || !strings.Contains(err.Error(), "beyond the window") {
		t.Fatalf("err = %v, want a window overrun", err)
	}
	chunk, _, _ := b.pop(ctx)
	b.written(len(chunk))
	if err := b.push(ctx, make([]byte, 1), true); err == nil {
		t.Fatal("written but unacknowledged bytes must still count")
	}
	b.acked(6, 0)
	if err := b.push(ctx, make([]byte, 6), true); err != nil {
		t.Fatalf("after credit: %v", err)
	}
}

func TestInboxWithoutFlowControlWaitsForSpace(t *testing.T) {
	b := newInbox(10)
	ctx := context.Background()
	if err := b.push(ctx, make([]byte, 10), false); err != nil {
		t.Fatal(err)
	}
	pushed := make(chan error, 1)
	go func() { pushed <- b.push(ctx, make([]byte, 3), false) }()
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
	if _, fin, ok := b.pop(ctx); !ok || !fin {
		t.Fatalf("pop after finish: fin=%v ok=%v", fin, ok)
	}
	if err := b.push(ctx, []byte("x"), false); err == nil {
		t.Fatal("push after finish accepted")
	}
	b.close()
	if _, _, ok := b.pop(ctx); ok {
		t.Fatal("pop after close")
	}
}
