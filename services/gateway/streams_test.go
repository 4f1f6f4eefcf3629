package gateway_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
)

const streamTimeout = 20 * time.Second

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// echoRoundTrip sends data on a new stream to an echo target and checks every byte comes back.
func echoRoundTrip(c *testenv.Client, target string, data []byte) error {
	st := c.Open(target)
	errs := make(chan error, 1)
	go func() { errs <- st.Write(data) }()
	got, err := st.ReadN(len(data), streamTimeout)
	if err != nil {
		return err
	}
	if err := <-errs; err != nil {
		return fmt.Errorf("stream %d write: %w", st.ID, err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("stream %d: echoed bytes differ", st.ID)
	}
	if err := st.CloseWrite(); err != nil {
		return err
	}
	code, err := st.WaitClosed(streamTimeout)
	if err != nil {
		return err
	}
	if code != "" {
		return fmt.Errorf("stream %d closed with %s", st.ID, code)
	}
	return nil
}

func TestConcurrentStreamsCarryEveryByte(t *testing.T) {
	const streams, size = 50, 64 << 10
	for _, kind := range []nodeKind{outlineNode, libevNode} {
		for _, features := range [][]string{nil, {schemas.FeatureBinary}, {schemas.FeatureBinary, schemas.FeatureFlowControl}, {schemas.FeatureFlowControl}} {
			t.Run(fmt.Sprintf("%s/features=%v", kind, features), func(t *testing.T) {
				w := newWorld(t, kind, nil)
				echo := testenv.EchoTarget(t)
				c := w.connect(t, features...)
				var wg sync.WaitGroup
				errs := make(chan error, streams)
				for range streams {
					data := randomBytes(t, size)
					wg.Go(func() {
						if err := echoRoundTrip(c, echo.Addr, data); err != nil {
							errs <- err
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
			})
		}
	}
}
