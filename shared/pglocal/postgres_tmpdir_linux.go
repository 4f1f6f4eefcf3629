package pglocal

import (
	"os"
	"sync"
	"syscall"
)

const (
	pgShmDir     = "/dev/shm"
	pgShmMinFree = 1 << 30
	pgAccessW    = 0x2
)

// pgTestBaseDir prefers tmpfs: creating a database on a disk costs hundreds
// of milliseconds even with fsync off, on tmpfs about ten.
var pgTestBaseDir = sync.OnceValue(func() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(pgShmDir, &st); err != nil || st.Bavail*uint64(st.Bsize) < pgShmMinFree {
		return os.TempDir()
	}
	if syscall.Access(pgShmDir, pgAccessW) != nil {
		return os.TempDir()
	}
	return pgShmDir
})
