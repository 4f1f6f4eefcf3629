package gateway_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/services/gateway"
	"github.com/httvps/httvps/services/gateway/internal/testenv"
	"github.com/httvps/httvps/shared/testkit"
)

const (
	deviceID = "device-1"
	token    = "token-1"
	userID   = 42
)

type world struct {
	nats *testkit.NATSServer
	cp   *testenv.ControlPlane
	node schemas.OutlineAssignment
	gw   *testenv.Gateway
}

type nodeKind int

const (
	outlineNode nodeKind = iota
	libevNode
)

func (k nodeKind) String() string {
	if k == libevNode {
		return "ss-server"
	}
	return "outline-ss-server"
}

func startNode(t testing.TB, kind nodeKind, id int64) schemas.OutlineAssignment {
	if kind == libevNode {
		return testenv.SSServer(t, id, testenv.Region)
	}
	return testenv.OutlineServer(t, id, testenv.Region)
}

// newWorld starts NATS, the control plane with one device and one node of kind, and a gateway.
func newWorld(t testing.TB, kind nodeKind, mutate func(*gateway.Config)) *world {
	t.Helper()
	w := &world{nats: testkit.NATS(t)}
	w.cp = testenv.StartControlPlane(t, w.nats.Conn(t))
	w.cp.AddDevice(testenv.Device{ID: deviceID, Token: token, UserID: userID, RowID: 7})
	w.node = startNode(t, kind, 1)
	w.cp.SetNodes(testenv.Region, w.node)
	w.gw = testenv.StartGateway(t, w.nats.URL, mutate)
	return w
}

func hello(features ...string) schemas.Hello {
	return schemas.Hello{DeviceID: deviceID, AccessToken: token, Region: testenv.Region, ClientVersion: "test", Platform: "linux", Features: features}
}

func (w *world) connect(t testing.TB, features ...string) *testenv.Client {
	t.Helper()
	c, refusal := testenv.Connect(t, w.gw, hello(features...))
	if refusal != nil {
		t.Fatalf("hello refused: %+v", *refusal)
	}
	return c
}

func testkitEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, what, cond)
}

func (w *world) waitStreams(t testing.TB, n int) {
	t.Helper()
	testkitEventually(t, fmt.Sprintf("%d open streams", n), func() bool {
		_, streams := w.gw.Svc.Counts()
		return streams == n
	})
}

func testutilGauge(t testing.TB, w *world, name string) float64 {
	t.Helper()
	families, err := w.gw.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return sum
}

// testutilCounter is the value of the counter name with label value label.
func testutilCounter(t testing.TB, w *world, name, label string) float64 {
	t.Helper()
	families, err := w.gw.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
