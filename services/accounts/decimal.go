package accounts

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Decimal is an exact numeric value, carried as its decimal text between JSON and PostgreSQL.
type Decimal string

var decimalPattern = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{1,6})?$`)

func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d), nil }

func (d *Decimal) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a number")
	}
	if !decimalPattern.MatchString(string(n)) {
		return fmt.Errorf("want a non-negative number with at most 12 digits before and 6 after the point, got %s", n)
	}
	*d = Decimal(n)
	return nil
}

func (d *Decimal) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		*d = Decimal(normalizeDecimal(string(v)))
	case string:
		*d = Decimal(normalizeDecimal(v))
	default:
		return fmt.Errorf("decimal: cannot scan %T", src)
	}
	return nil
}

func (d Decimal) Value() (driver.Value, error) { return string(d), nil }

func (d Decimal) isZero() bool { return strings.Trim(string(d), "0.") == "" }

func normalizeDecimal(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
