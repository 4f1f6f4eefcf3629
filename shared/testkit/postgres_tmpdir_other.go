//go:build !linux

package testkit

import (
	"os"
	"sync"
)

var pgTestBaseDir = sync.OnceValue(func() string {
	return os.TempDir()
})
