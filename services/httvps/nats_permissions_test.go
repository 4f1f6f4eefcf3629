package httvps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/httvps/httvps/schemas"
)

// The gateway's NATS user may publish every request subject the gateway sends.
func TestGatewayUserMayCallItsRequestSubjects(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "nats", "accounts.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var publish string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, "publish:") && strings.Contains(line, "httvps.usage.>") && !strings.Contains(line, `">"`) {
			publish = line
		}
	}
	if publish == "" {
		t.Fatal("no publish list of the gateway user in nats/accounts.conf")
	}
	for _, subject := range []string{
		schemas.SubjectValidateDevice, schemas.SubjectAssignOutline, schemas.SubjectSessionOpen,
		schemas.SubjectSessionLease, schemas.SubjectSessionClose, schemas.SubjectSessionKeepalive,
	} {
		if !strings.Contains(publish, `"`+subject+`"`) {
			t.Errorf("the gateway user may not publish %s: %s", subject, strings.TrimSpace(publish))
		}
	}
}
