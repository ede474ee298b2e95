package pgtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster is a PostgreSQL cluster (one postmaster with its data directory)
// started by this package. It implements Server.
type Cluster struct {
	in      *install
	opts    options
	base    string // harness directory: owner.pid, data/, sock/, postgres.log
	dataDir string
	sockDir string
	logFile string
	port    int

	mu        sync.Mutex // serializes start/stop/kill/destroy
	destroyed bool
	shmKey    int64 // System V segment a Kill left behind
	shmID     int64
}

// New starts a private cluster for this test; the test may stop, kill and
// restart it. It is stopped (immediate mode) and removed in t.Cleanup.
func New(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	c, err := startCluster(opts)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.destroy(); err != nil {
			t.Errorf("pgtest: removing cluster: %v", err)
		}
	})
	return c
}

// Host returns the address the server listens on, "127.0.0.1".
func (c *Cluster) Host() string { return "127.0.0.1" }

// Port returns the TCP port; it stays the same across Stop/Start and Kill/Start.
func (c *Cluster) Port() int { return c.port }

// Addr returns "127.0.0.1:PORT".
func (c *Cluster) Addr() string { return net.JoinHostPort(c.Host(), strconv.Itoa(c.port)) }

// SocketDir returns the directory holding the server's unix socket.
func (c *Cluster) SocketDir() string { return c.sockDir }

// DataDir returns the cluster's data directory.
func (c *Cluster) DataDir() string { return c.dataDir }

// Log returns the contents of the server log, for test diagnostics.
func (c *Cluster) Log() string {
	b, err := os.ReadFile(c.logFile)
	if err != nil {
		return fmt.Sprintf("(cannot read server log: %v)", err)
	}
	return string(b)
}

// Stop stops the server like `pg_ctl stop -m fast -w`: it waits until the
// server is down. New connections are then refused until Start.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	pm, err := readPostmasterPID(c.dataDir)
	if err != nil || !processAlive(pm.pid) {
		t.Fatalf("pgtest: Stop: server is not running")
	}
	// -W and our own polling: pg_ctl -w polls only every 100ms.
	if out, err := c.pgCtl(time.Minute, "stop", "-m", "fast", "-W"); err != nil {
		t.Fatalf("pgtest: pg_ctl stop failed: %v\n%s\n--- server log (tail) ---\n%s", err, out, tail(c.Log(), 30))
	}
	if err := c.waitStopped(pm.pid, time.Minute); err != nil {
		t.Fatalf("pgtest: Stop: %v\n--- server log (tail) ---\n%s", err, tail(c.Log(), 30))
	}
}

// Start starts the server again on the same port and socket directory and
// waits until it accepts connections (for WithHotStandbyOff: until it
// listens and answers with 57P03).
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running() {
		t.Fatalf("pgtest: Start: server is already running")
	}
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		if err = c.start(); err == nil {
			c.shmKey, c.shmID = 0, 0 // the new postmaster reclaimed the old segment
			return
		}
		var se *startError
		if !errors.As(err, &se) || !se.retryable() {
			break
		}
	}
	t.Fatalf("pgtest: %v", err)
}

// Kill SIGKILLs the postmaster and its child processes, like a crash, and
// waits until they are gone. Start works afterwards (with crash recovery).
func (c *Cluster) Kill(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.kill(); err != nil {
		t.Fatalf("pgtest: Kill: %v", err)
	}
}

// PgCtl runs `pg_ctl -D <datadir> args...` as the PostgreSQL user, e.g.
// PgCtl("stop", "-m", "smart", "--no-wait"). For start and restart, -l
// <server log> is added unless the arguments name a log file.
func (c *Cluster) PgCtl(args ...string) error {
	if len(args) > 0 && (args[0] == "start" || args[0] == "restart") && !hasLogArg(args) {
		args = append(args, "-l", c.logFile)
	}
	out, err := c.pgCtl(2*time.Minute, args...)
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(out))
	}
	return nil
}

func hasLogArg(args []string) bool {
	for _, a := range args {
		if a == "-l" || a == "--log" || strings.HasPrefix(a, "--log=") || (strings.HasPrefix(a, "-l") && len(a) > 2) {
			return true
		}
	}
	return false
}

func (c *Cluster) pgCtl(timeout time.Duration, args ...string) (string, error) {
	return c.in.run(timeout, c.base, "pg_ctl", append([]string{"-D", c.dataDir}, args...)...)
}

// startCluster creates and starts a cluster. It does not need a testing.TB:
// the shared cluster outlives the test that first asks for it.
func startCluster(opts []Option) (*Cluster, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	in, err := getInstall()
	if err != nil {
		return nil, err
	}
	cleanupOrphans(in)
	tmpl, err := in.template()
	if err != nil {
		return nil, err
	}
	base, err := makeHarnessDir(in, runPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating cluster directory: %v", err)
	}
	startWatchdog(in)
	c := &Cluster{
		in:      in,
		opts:    o,
		base:    base,
		dataDir: filepath.Join(base, "data"),
		sockDir: filepath.Join(base, "sock"),
		logFile: filepath.Join(base, "postgres.log"),
	}
	register(c)
	if o.primary != nil {
		err = c.basebackup(o.primary)
	} else {
		err = c.create(tmpl)
	}
	if err != nil {
		c.destroy()
		return nil, err
	}
	if o.ssl {
		if err := c.writeSSL(); err != nil {
			c.destroy()
			return nil, fmt.Errorf("writing TLS certificates: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		var port int
		if port, err = pickPort(); err == nil {
			setPort(c, port)
		}
		if err == nil {
			err = c.writeConf()
		}
		if err == nil {
			err = c.start()
		}
		if err == nil {
			return c, nil
		}
		var se *startError
		if attempt >= 4 || !errors.As(err, &se) || !se.portTaken() {
			c.destroy()
			return nil, err
		}
	}
}

// create fills the harness directory: data directory copied from the
// template, socket directory, pg_hba.conf, include of pgtest.conf.
func (c *Cluster) create(tmpl string) error {
	if out, err := exec.Command("cp", "-a", tmpl, c.dataDir).CombinedOutput(); err != nil {
		return fmt.Errorf("copying template %s: %v\n%s", tmpl, err, out)
	}
	if err := os.Mkdir(c.sockDir, 0o755); err != nil {
		return err
	}
	if err := c.in.chown(c.sockDir); err != nil {
		return err
	}
	if err := c.in.writeFile(filepath.Join(c.dataDir, "pg_hba.conf"), []byte(hbaConf), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(c.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n# Added by pgtest.\ninclude 'pgtest.conf'\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if c.opts.standby {
		if err := c.in.writeFile(filepath.Join(c.dataDir, "standby.signal"), nil, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) writeConf() error {
	return c.in.writeFile(filepath.Join(c.dataDir, "pgtest.conf"), []byte(c.opts.conf(c.port, c.sockDir)), 0o600)
}

// pickPort is freePort; tests replace it to provoke a port conflict.
var pickPort = freePort

// freePort returns a TCP port on 127.0.0.1 that is free right now and not
// used by another cluster of this process (which may be stopped).
func freePort() (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portReserved(port) {
			return port, nil
		}
	}
	return 0, errors.New("finding a free port: every port offered is in use by this process")
}

// startError is a failed start, with the server log written during it.
type startError struct {
	c   *Cluster
	err error
	out string // pg_ctl output
	log string // server log written during this start attempt
}

func (e *startError) Error() string {
	log := e.log
	if strings.TrimSpace(log) == "" {
		log = tail(e.c.Log(), 30)
	} else {
		log = tail(log, 30)
	}
	return fmt.Sprintf("starting PostgreSQL (port %d, data %s) failed: %v\n%s\n--- server log (tail) ---\n%s",
		e.c.port, e.c.dataDir, e.err, strings.TrimSpace(e.out), log)
}

func (e *startError) portTaken() bool {
	return strings.Contains(e.log, "could not bind") ||
		strings.Contains(e.log, "Address already in use") ||
		strings.Contains(e.log, "could not create any TCP/IP sockets")
}

func (e *startError) retryable() bool {
	return e.portTaken() || strings.Contains(e.log, "lock file") ||
		strings.Contains(e.log, "pre-existing shared memory block")
}

// start starts the postmaster and waits for it.
func (c *Cluster) start() error {
	off := fileSize(c.logFile)
	stale := 0 // pid of a leftover postmaster.pid, not to be mistaken for the new one
	if pm, err := readPostmasterPID(c.dataDir); err == nil {
		stale = pm.pid
	}
	// pg_ctl -W (no wait) and our own polling: pg_ctl -w polls only every
	// 100ms, and with hot_standby=off it would wait for a "ready" status
	// that never comes.
	if out, err := c.pgCtl(time.Minute, "start", "-W", "-l", c.logFile); err != nil {
		return &startError{c: c, err: err, out: out, log: c.logSince(off)}
	}
	if err := c.waitStarted(time.Minute, off, stale); err != nil {
		return &startError{c: c, err: err, log: c.logSince(off)}
	}
	return nil
}

// waitStarted waits until postmaster.pid says the server accepts
// connections ("ready", or "standby" for a hot standby). For a standby with
// hot_standby=off, which never gets there, it waits until the postmaster
// has a status line (written right after it opened its sockets) and accepts
// TCP connections.
func (c *Cluster) waitStarted(timeout time.Duration, logOff int64, stalePID int) error {
	wantReady := c.opts.acceptsConnections()
	deadline := time.Now().Add(timeout)
	for {
		pm, err := readPostmasterPID(c.dataDir)
		running := err == nil && pm.pid != stalePID && processAlive(pm.pid)
		switch {
		case running && wantReady && (pm.status == "ready" || pm.status == "standby"):
			return nil
		case running && !wantReady && pm.status != "" && pm.listen != "":
			if conn, err := net.DialTimeout("tcp", c.Addr(), time.Second); err == nil {
				conn.Close()
				return nil
			}
		case err == nil && pm.pid != stalePID && !running:
			return fmt.Errorf("postmaster (pid %d) exited during startup", pm.pid)
		case !running:
			// Clients that connect early get "FATAL: the database system
			// is starting up" logged, but only once postmaster.pid exists;
			// a FATAL without a running postmaster is the server's own.
			if log := c.logSince(logOff); strings.Contains(log, "FATAL:") || strings.Contains(log, "PANIC:") {
				return errors.New("postmaster failed to start")
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not up after %v (postmaster.pid: %+v, %v)", timeout, pm, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStopped waits until the postmaster pid is gone and postmaster.pid has
// been removed (or names a dead process, after a crash).
func (c *Cluster) waitStopped(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pm, err := readPostmasterPID(c.dataDir)
		if (err != nil || !processAlive(pm.pid)) && !processAlive(pid) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postmaster (pid %d) still running after %v", pid, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kill SIGKILLs the postmaster and its children and removes the lock files
// they leave behind.
func (c *Cluster) kill() error {
	pm, err := readPostmasterPID(c.dataDir)
	if err != nil {
		return fmt.Errorf("server is not running: %v", err)
	}
	if !processAlive(pm.pid) {
		return fmt.Errorf("server is not running (postmaster pid %d is gone)", pm.pid)
	}
	if err := killTree(pm.pid); err != nil {
		return err
	}
	// Remember the System V segment in case the cluster is removed without
	// being restarted (a restart reclaims it by itself).
	c.shmKey, c.shmID = pm.shmKey, pm.shmID
	// The dead postmaster stays a zombie when nobody reaps it, and a zombie's
	// pid passes the "is another postmaster running?" check of the next
	// start: remove its lock files.
	os.Remove(filepath.Join(c.dataDir, "postmaster.pid"))
	os.Remove(filepath.Join(c.sockDir, fmt.Sprintf(".s.PGSQL.%d.lock", c.port)))
	os.Remove(filepath.Join(c.sockDir, fmt.Sprintf(".s.PGSQL.%d", c.port)))
	return nil
}

// killTree SIGKILLs a postmaster and its children and waits until they are
// all gone. The postmaster is stopped first so it cannot fork while we
// collect its children (every child is in its own session, so there is no
// process group to signal).
func killTree(pid int) error {
	syscall.Kill(pid, syscall.SIGSTOP)
	kids := childrenOf(pid)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		syscall.Kill(pid, syscall.SIGCONT)
		return fmt.Errorf("killing postmaster %d: %v", pid, err)
	}
	for _, k := range kids {
		syscall.Kill(k, syscall.SIGKILL)
	}
	return waitGone(append(kids, pid), 15*time.Second)
}

// destroy stops the server (immediate mode) and removes the cluster's
// directory. It is safe to call more than once.
func (c *Cluster) destroy() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return nil
	}
	c.destroyed = true
	defer unregister(c)
	var errs []error
	if pm, err := readPostmasterPID(c.dataDir); err == nil {
		if processAlive(pm.pid) {
			// Immediate shutdown, as `pg_ctl stop -m immediate` does.
			syscall.Kill(pm.pid, syscall.SIGQUIT)
			if err := c.waitStopped(pm.pid, 30*time.Second); err != nil {
				if kerr := killTree(pm.pid); kerr != nil {
					errs = append(errs, fmt.Errorf("immediate shutdown: %v; SIGKILL: %v", err, kerr))
				}
				removeStaleShm(pm.shmKey, pm.shmID)
			}
		} else {
			removeStaleShm(pm.shmKey, pm.shmID)
		}
	}
	removeStaleShm(c.shmKey, c.shmID)
	if err := os.RemoveAll(c.base); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// running reports whether the postmaster is up (without taking c.mu).
func (c *Cluster) running() bool {
	pm, err := readPostmasterPID(c.dataDir)
	return err == nil && processAlive(pm.pid)
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func (c *Cluster) logSince(off int64) string {
	f, err := os.Open(c.logFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() <= off {
		return ""
	}
	b := make([]byte, st.Size()-off)
	n, _ := f.ReadAt(b, off)
	return string(b[:n])
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
