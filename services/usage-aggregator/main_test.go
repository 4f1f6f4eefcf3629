package usageaggregator

import (
	"os"
	"testing"

	"github.com/httvps/httvps/shared/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m)) }
