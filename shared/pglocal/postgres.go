package pglocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	pgTestDirPrefix    = "httvps-pgtest-"
	pgTestStartTimeout = 2 * time.Minute
	pgTestStopTimeout  = 30 * time.Second
	pgTestDBTimeout    = 30 * time.Second
	pgTestDBSlugLen    = 40
)

var pgTestSettings = []string{
	"fsync=off",
	"synchronous_commit=off",
	"full_page_writes=off",
	"max_connections=300",
	"shared_buffers=64MB",
}

var errPGHarnessStopped = errors.New("the test cluster was already stopped by pglocal.Main")

type pgHarness struct {
	mu      sync.Mutex
	started bool
	cluster *Cluster
	root    string
	log     *os.File
	err     error
	seq     atomic.Int64
}

var pgShared pgHarness

// TB is the part of testing.TB the harness uses, so this package does not import testing.
type TB interface {
	Helper()
	Name() string
	Context() context.Context
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Postgres returns the DSN of a new empty database on the test process's
// cluster, started on first use. The database is dropped when tb ends.
func Postgres(tb TB) string {
	tb.Helper()
	c, err := pgShared.get()
	if err != nil {
		tb.Fatalf("pglocal: postgres: %v", err)
	}
	name := pgShared.dbName(tb)
	ctx, cancel := context.WithTimeout(tb.Context(), pgTestDBTimeout)
	defer cancel()
	if err := c.CreateDatabase(ctx, name); err != nil {
		tb.Fatalf("pglocal: postgres: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), pgTestDBTimeout)
		defer cancel()
		if err := c.DropDatabase(ctx, name); err != nil {
			tb.Errorf("pglocal: postgres: %v", err)
		}
	})
	return c.DSN(name)
}

// Main runs the tests, then stops the test cluster and removes its files.
// Packages using Postgres call os.Exit(pglocal.Main(m)) from TestMain.
func Main(m interface{ Run() int }) int {
	code := m.Run()
	if err := pgShared.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pglocal: stop postgres: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func (h *pgHarness) get() (*Cluster, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		h.started = true
		h.err = h.start()
	}
	return h.cluster, h.err
}

func (h *pgHarness) start() error {
	pgRemoveStaleTestDirs()
	root, err := os.MkdirTemp(pgTestBaseDir(), fmt.Sprintf("%s%d-", pgTestDirPrefix, os.Getpid()))
	if err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	h.root = root
	owner, err := pgLookupOwner()
	if err != nil {
		return err
	}
	if err := owner.chownTree(root); err != nil {
		return err
	}
	if h.log, err = os.Create(filepath.Join(root, "postgres.log")); err != nil {
		return fmt.Errorf("create postgres log: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgTestStartTimeout)
	defer cancel()
	h.cluster, err = startPGCluster(ctx, pgClusterConfig{
		dir:      filepath.Join(root, "data"),
		log:      h.log,
		settings: pgTestSettings,
		initArgs: []string{"--no-sync"},
		template: true,
		stopSig:  syscall.SIGQUIT,
		deathSig: syscall.SIGQUIT,
	})
	return err
}

func (h *pgHarness) stop() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	if h.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), pgTestStopTimeout)
		errs = append(errs, h.cluster.Stop(ctx))
		cancel()
	}
	if h.log != nil {
		errs = append(errs, h.log.Close())
	}
	if h.root != "" {
		errs = append(errs, os.RemoveAll(h.root))
	}
	h.started, h.cluster, h.log, h.root, h.err = true, nil, nil, "", errPGHarnessStopped
	return errors.Join(errs...)
}

func (h *pgHarness) dbName(tb TB) string {
	return fmt.Sprintf("t%d_%s", h.seq.Add(1), pgSlug(tb.Name(), pgTestDBSlugLen))
}

func pgSlug(s string, max int) string {
	slug := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		default:
			return '_'
		}
	}, s)
	if len(slug) > max {
		slug = slug[:max]
	}
	return slug
}
