package accounts

import (
	"sync"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestTwoInstancesShareTheLoad(t *testing.T) {
	e := newEnv(t)
	_, secondReg, _ := startService(t, e.nats, e.db, testConfig())
	_, d := e.subscriber(t, 3, "")

	const n = 60
	var wg sync.WaitGroup
	results := make([]string, n)
	for i := range n {
		wg.Go(func() {
			results[i] = refusal(e.validateReq(t, schemas.ValidateDeviceRequest{DeviceID: d.DeviceUUID, AccessToken: d.AccessToken, Region: testRegion}))
		})
	}
	wg.Wait()
	for i, r := range results {
		if r != "ok" {
			t.Fatalf("request %d: %s", i, r)
		}
	}
	first := counterValue(t, e.reg, "httvps_accounts_validations_total", "result", "ok")
	second := counterValue(t, secondReg, "httvps_accounts_validations_total", "result", "ok")
	if first == 0 || second == 0 || first+second != n {
		t.Fatalf("validations answered: first %v, second %v, want both > 0 and %d in all", first, second, n)
	}
}
