package bench

import (
	"context"
	"errors"
	"fmt"
	"github.com/httvps/httvps/shared/pause"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/client"
)

// Flood is the gateway's memory while many streams send 1-byte frames to targets that
// accept and never read, against the configured gateway budget.
type Flood struct {
	Sessions, StreamsPerSession int
	Opened, RefusedMemory       int
	Frames                      int64
	Budget, SessionBudget       int
	// MaxHeapStack and MaxCharged are the largest seen while the frames flowed.
	MaxHeapStack, MaxCharged uint64
	Window                   time.Duration
	// Sites are the allocation sites that grew most at the largest sample, per opened stream.
	Sites []SiteCost
}

// sink accepts connections and never reads from them.
type sink struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sink target: %w", err)
	}
	k := &sink{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(k.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			k.mu.Lock()
			k.conns = append(k.conns, c)
			k.mu.Unlock()
		}
	}()
	return k, nil
}

func (k *sink) stop() {
	k.ln.Close()
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.conns {
		c.Close()
	}
}

func measureFlood(ctx context.Context, gw *gatewayChild, cfg client.Config, in *infra, s AbuseSettings) (Flood, error) {
	base, err := gw.mem()
	if err != nil {
		return Flood{}, fmt.Errorf("gateway memory: %w", err)
	}
	target, err := startSink()
	if err != nil {
		return Flood{}, err
	}
	defer target.stop()
	cfg.FlowControl = false
	f := Flood{Sessions: s.FloodSessions, StreamsPerSession: s.FloodStreams, Budget: s.GatewayMemory,
		SessionBudget: s.SessionMemory, Window: s.FloodWindow}
	sessions := make([]*client.Session, s.FloodSessions)
	defer closeAll(sessions)
	var streams []*client.Stream
	devices, err := in.admin.Devices(ctx, "flood", len(sessions))
	if err != nil {
		return f, fmt.Errorf("devices: %w", err)
	}
	for i := range sessions {
		sess, err := client.Dial(ctx, withDevice(cfg, devices[i]))
		if err != nil {
			return f, fmt.Errorf("session %d of %d: %w", i+1, s.FloodSessions, err)
		}
		sessions[i] = sess
		for range s.FloodStreams {
			st, err := sess.OpenStream(ctx, target.ln.Addr().String())
			if err != nil {
				return f, fmt.Errorf("open stream: %w", err)
			}
			if err := st.AwaitOpen(ctx); err != nil {
				if ge, ok := client.AsGatewayError(err); ok && ge.Limit == schemas.LimitMemory {
					f.RefusedMemory++
					continue
				}
				return f, fmt.Errorf("stream of session %d: %w", i+1, err)
			}
			streams = append(streams, st)
		}
	}
	f.Opened = len(streams)
	var frames atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, st := range streams {
		wg.Go(func() {
			one := []byte{1}
			for !stop.Load() {
				if _, err := st.Write(one); err != nil {
					return
				}
				frames.Add(1)
			}
		})
	}
	deadline := time.Now().Add(s.FloodWindow)
	var sampleErr error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		m, err := gw.mem()
		if err != nil {
			sampleErr = err
			break
		}
		if hs := m.HeapInuse + m.StackInuse; hs > f.MaxHeapStack {
			f.MaxHeapStack = hs
			f.Sites = topSites(base.Sites, m.Sites, max(f.Opened, 1), 6)
		}
		f.MaxCharged = max(f.MaxCharged, uint64(max(m.Charged, 0)))
		pause.For(ctx, 500*time.Millisecond)
	}
	stop.Store(true)
	closeAll(sessions)
	wg.Wait()
	f.Frames = frames.Load()
	if sampleErr != nil {
		return f, fmt.Errorf("gateway memory: %w", sampleErr)
	}
	if f.MaxHeapStack == 0 {
		return f, errors.New("no memory sample while the frames flowed")
	}
	return f, ctx.Err()
}
