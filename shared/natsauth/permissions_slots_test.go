package natsauth_test

import (
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/natsauth"
)

// The usage-aggregator serves the slot and lease requests and answers discovery for their micro
// service; no other service serves them.
func TestOnlyTheAggregatorServesSlots(t *testing.T) {
	for _, name := range natsauth.Services() {
		p, err := natsauth.ServicePermissions(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range append(schemas.GatewaySlotSubjects("gw-1"), "$SRV.PING."+schemas.ServiceUsageSlots) {
			if serves := matchesAny(p.Subscribe, s); serves != (name == natsauth.UsageAggregator) {
				t.Errorf("%s subscribes to %s: %v", name, s, serves)
			}
		}
	}
}
