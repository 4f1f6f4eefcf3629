package natsauth_test

import (
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
	"github.com/httvps/httvps/shared/natsauth"
	"github.com/httvps/httvps/shared/natsx"
)

// The provisioner may shape every stream and durable Provision knows and nothing else; no other
// identity but the operator may.
func TestProvisionerPermissions(t *testing.T) {
	p, err := natsauth.ServicePermissions(natsauth.Provisioner)
	if err != nil {
		t.Fatal(err)
	}
	var shaping []string
	for _, sc := range natsx.DefaultStreams().Streams() {
		shaping = append(shaping, "$JS.API.STREAM.CREATE."+sc.Name, "$JS.API.STREAM.UPDATE."+sc.Name, "$JS.API.STREAM.INFO."+sc.Name)
	}
	for _, cs := range natsx.DefaultStreams().Consumers() {
		shaping = append(shaping, "$JS.API.CONSUMER.CREATE."+cs.Stream+"."+cs.Config.Durable,
			"$JS.API.CONSUMER.INFO."+cs.Stream+"."+cs.Config.Durable, "$JS.API.CONSUMER.DELETE."+cs.Stream+"."+cs.Config.Durable)
	}
	for _, s := range append(shaping, "$JS.API.INFO") {
		if !matchesAny(p.Publish, s) {
			t.Errorf("the provisioner may not publish %s", s)
		}
	}
	denied := []string{
		schemas.UsageSubject("eu-1", "gw-1"), schemas.SessionSubject(schemas.SessionStartedEvent, "gw-1"),
		schemas.GatewayHeartbeatSubject("gw-1"), schemas.ControlSubject(schemas.ScopeUser, "1", schemas.ControlKick),
		schemas.AdminSubject(schemas.ResourceUsers, schemas.VerbCreate), schemas.SubjectValidateDevice,
		"$JS.API.STREAM.DELETE." + schemas.StreamUsage, "$JS.API.STREAM.PURGE." + schemas.StreamUsage,
		"$JS.API.STREAM.MSG.GET." + schemas.StreamUsage, "$JS.API.DIRECT.GET." + schemas.StreamUsage,
		"$JS.API.CONSUMER.MSG.NEXT." + schemas.StreamUsage + "." + schemas.ConsumerUsageAggregator,
		"$JS.API.CONSUMER.CREATE." + schemas.StreamUsage + ".thief", "$JS.API.STREAM.CREATE.OTHER",
		"$JS.ACK." + schemas.StreamUsage + "." + schemas.ConsumerUsageAggregator + ".1.1.1.1.1",
	}
	for _, s := range denied {
		if matchesAny(p.Publish, s) {
			t.Errorf("the provisioner may publish %s", s)
		}
	}
	if len(p.Subscribe) != 1 || p.Subscribe[0] != natsauth.ServiceInbox(natsauth.Provisioner)+".>" || p.AllowResponses {
		t.Errorf("the provisioner subscribes to %v (responses %v), want its own inbox only", p.Subscribe, p.AllowResponses)
	}
	for _, name := range natsauth.Services() {
		if name == natsauth.Provisioner || name == natsauth.Operator {
			continue
		}
		// services read their own durable's info to consume it
		sp, _ := natsauth.ServicePermissions(name)
		for _, s := range shaping {
			if matchesAny(sp.Publish, s) && !strings.HasPrefix(s, "$JS.API.CONSUMER.INFO.") {
				t.Errorf("%s may publish %s", name, s)
			}
		}
	}
	gw, _ := natsauth.GatewayPermissions("gw-1")
	for _, s := range shaping {
		if matchesAny(gw.Publish, s) {
			t.Errorf("a gateway may publish %s", s)
		}
	}
}
