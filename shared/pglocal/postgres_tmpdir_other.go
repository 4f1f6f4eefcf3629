//go:build !linux

package pglocal

import (
	"os"
	"sync"
)

var pgTestBaseDir = sync.OnceValue(func() string {
	return os.TempDir()
})
