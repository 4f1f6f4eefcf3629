package testkit

import (
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

type testLogWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func Logger(tb testing.TB) zerolog.Logger {
	return zerolog.New(LogWriter(tb)).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

func LogWriter(tb testing.TB) io.Writer {
	w := &testLogWriter{tb: tb}
	tb.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}
