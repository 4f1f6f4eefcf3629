package edge

import (
	"net/http"
	"testing"

	"github.com/httvps/httvps/schemas"
)

func TestEveryErrorCodeHasAStatus(t *testing.T) {
	for _, code := range schemas.AllErrorCodes {
		t.Run(string(code), func(t *testing.T) {
			status, ok := statusByCode[code]
			if !ok {
				t.Fatalf("%s has no HTTP status", code)
			}
			if status < 400 || status > 599 {
				t.Fatalf("%s maps to %d", code, status)
			}
		})
	}
	if len(statusByCode) != len(schemas.AllErrorCodes) {
		t.Fatalf("table has %d codes, schemas %d", len(statusByCode), len(schemas.AllErrorCodes))
	}
	if got := HTTPStatus("SOMETHING_NEW"); got != http.StatusInternalServerError {
		t.Fatalf("unknown code → %d", got)
	}
}
