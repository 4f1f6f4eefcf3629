package pglocal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

const (
	pgHost          = "127.0.0.1"
	pgSuperuser     = "postgres"
	pgAdminDB       = "postgres"
	pgPortAttempts  = 5
	pgPollInterval  = 20 * time.Millisecond
	pgPingTimeout   = time.Second
	pgKillTimeout   = 10 * time.Second
	pgMaxSocketPath = 100
)

var errPGPortInUse = errors.New("port already in use")

// Cluster is a PostgreSQL server started from the installed binaries and
// owned by this process.
type Cluster struct {
	dir     string
	port    int
	stopSig syscall.Signal
	cmd     *exec.Cmd
	exited  <-chan struct{}
	admin   *sql.DB

	stopOnce sync.Once
	stopErr  error
}

type pgClusterConfig struct {
	dir      string
	port     int
	log      io.Writer
	settings []string
	initArgs []string
	template bool
	stopSig  syscall.Signal
	deathSig syscall.Signal
}

// StartCluster starts a durable cluster in dir, running initdb first when dir
// is empty or missing and reusing it otherwise. Port 0 picks a free port.
// The server shuts down when Stop is called or when this process dies.
func StartCluster(ctx context.Context, dir string, port int, log io.Writer) (*Cluster, error) {
	return startPGCluster(ctx, pgClusterConfig{
		dir:      dir,
		port:     port,
		log:      log,
		stopSig:  syscall.SIGINT,
		deathSig: syscall.SIGINT,
	})
}

func startPGCluster(ctx context.Context, cfg pgClusterConfig) (*Cluster, error) {
	binDir, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	owner, err := pgLookupOwner()
	if err != nil {
		return nil, err
	}
	if cfg.dir, err = filepath.Abs(cfg.dir); err != nil {
		return nil, fmt.Errorf("postgres data dir: %w", err)
	}
	if cfg.log == nil {
		cfg.log = io.Discard
	}
	if cfg.port != 0 {
		if err := pgCheckPortFree(cfg.port); err != nil {
			return nil, err
		}
	}
	initialized, err := pgPrepareDataDir(cfg.dir, owner)
	if err != nil {
		return nil, err
	}
	switch {
	case initialized:
	case cfg.template:
		err = pgInitFromTemplate(ctx, binDir, owner, cfg)
	default:
		err = pgInitdb(ctx, binDir, owner, cfg)
	}
	if err != nil {
		return nil, err
	}
	if cfg.port != 0 {
		return pgLaunch(ctx, binDir, owner, cfg, cfg.port)
	}
	for attempt := 1; ; attempt++ {
		port, err := pgFreePort()
		if err != nil {
			return nil, err
		}
		c, err := pgLaunch(ctx, binDir, owner, cfg, port)
		if errors.Is(err, errPGPortInUse) && attempt < pgPortAttempts {
			continue
		}
		return c, err
	}
}

func pgInitdb(ctx context.Context, binDir string, owner *pgOwner, cfg pgClusterConfig) error {
	args := []string{"-D", cfg.dir, "-A", "trust", "-U", pgSuperuser, "-E", "UTF8", "--locale=C"}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), append(args, cfg.initArgs...)...)
	cmd.Dir = "/"
	cmd.Env = pgEnv()
	cmd.SysProcAttr = pgSysProcAttr(owner, syscall.SIGKILL)
	out, err := cmd.CombinedOutput()
	_, _ = cfg.log.Write(out)
	if err != nil {
		return fmt.Errorf("initdb %s: %w: %s", cfg.dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func pgLaunch(ctx context.Context, binDir string, owner *pgOwner, cfg pgClusterConfig, port int) (*Cluster, error) {
	args := []string{
		"-D", cfg.dir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=" + pgHost,
		"-c", "unix_socket_directories=" + pgSocketDir(cfg.dir),
		"-c", "timezone=UTC",
		"-c", "log_timezone=UTC",
	}
	for _, s := range cfg.settings {
		args = append(args, "-c", s)
	}
	tail := &pgTail{}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...)
	cmd.Dir = cfg.dir
	cmd.Env = pgEnv()
	cmd.Stdout = io.MultiWriter(cfg.log, tail)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = pgSysProcAttr(owner, cfg.deathSig)
	exited, err := pgStart(cmd)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c := &Cluster{dir: cfg.dir, port: port, stopSig: cfg.stopSig, cmd: cmd, exited: exited}
	c.admin = sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.DSN(pgAdminDB))))
	if err := c.waitReady(ctx, tail); err != nil {
		killCtx, cancel := context.WithTimeout(context.Background(), pgKillTimeout)
		defer cancel()
		_ = c.terminate(killCtx, syscall.SIGQUIT)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) waitReady(ctx context.Context, tail *pgTail) error {
	tick := time.NewTicker(pgPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.exited:
			out := strings.TrimSpace(tail.String())
			if strings.Contains(out, "Address already in use") {
				return fmt.Errorf("postgres on %s:%d: %w: %s", pgHost, c.port, errPGPortInUse, out)
			}
			return fmt.Errorf("postgres exited during startup: %s", out)
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres on %s:%d: %w: %s", pgHost, c.port, ctx.Err(), tail.String())
		case <-tick.C:
		}
		dataDir, err := c.dataDirectory(ctx)
		if err != nil {
			continue
		}
		if filepath.Clean(dataDir) != c.dir {
			return fmt.Errorf("postgres on %s:%d: %w by the server of %s", pgHost, c.port, errPGPortInUse, dataDir)
		}
		return nil
	}
}

func (c *Cluster) dataDirectory(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pgPingTimeout)
	defer cancel()
	var dir string
	err := c.admin.QueryRowContext(ctx, "SELECT current_setting('data_directory')").Scan(&dir)
	return dir, err
}

// DSN returns the URL of database dbname on this cluster.
func (c *Cluster) DSN(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(pgSuperuser),
		Host:     net.JoinHostPort(pgHost, strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the cluster listens on at 127.0.0.1.
func (c *Cluster) Port() int {
	return c.port
}

// PID is the postmaster's process id.
func (c *Cluster) PID() int { return c.cmd.Process.Pid }

// CreateDatabase creates database name unless it already exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	_, err := c.admin.ExecContext(ctx, "CREATE DATABASE "+pgQuoteIdent(name))
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) && (pgErr.Field('C') == "42P04" || pgErr.Field('C') == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops database name, closing its connections, if it exists.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	if _, err := c.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgQuoteIdent(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// Stop shuts the server down and waits for it, killing it when ctx ends first.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.terminate(ctx, c.stopSig) })
	return c.stopErr
}

func (c *Cluster) terminate(ctx context.Context, sig syscall.Signal) error {
	_ = c.admin.Close()
	if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = c.cmd.Process.Kill()
	}
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("stop postgres on %s:%d: %w: killed", pgHost, c.port, ctx.Err())
	}
}

func pgPrepareDataDir(dir string, owner *pgOwner) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return false, fmt.Errorf("create parent of postgres data dir: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return false, fmt.Errorf("create postgres data dir: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("read postgres data dir: %w", err)
	}
	_, err = os.Stat(filepath.Join(dir, "PG_VERSION"))
	initialized := err == nil
	if !initialized && len(entries) > 0 {
		return false, fmt.Errorf("%s is neither empty nor a PostgreSQL data directory", dir)
	}
	if err := owner.checkReachable(dir); err != nil {
		return false, err
	}
	return initialized, owner.chownTree(dir)
}

func pgSocketDir(dataDir string) string {
	if len(dataDir)+len("/.s.PGSQL.65535") > pgMaxSocketPath {
		return ""
	}
	return dataDir
}

func pgFreePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(pgHost, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func pgCheckPortFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(pgHost, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("postgres on %s:%d: %w: %w", pgHost, port, errPGPortInUse, err)
	}
	return l.Close()
}

func pgEnv() []string {
	return append(os.Environ(), "LC_ALL=C")
}

func pgQuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
