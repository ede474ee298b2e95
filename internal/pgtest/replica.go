package pgtest

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// WithReplicaOf starts the cluster as a streaming replica of primary: its
// data directory is a pg_basebackup of the primary (with -R, so it streams
// WAL from it) and it runs as a hot standby until promoted.
func WithReplicaOf(primary *Cluster) Option {
	return func(o *options) { o.primary, o.standby, o.hotStandby = primary, true, true }
}

// basebackup fills the harness directory from a pg_basebackup of primary.
func (c *Cluster) basebackup(primary *Cluster) error {
	out, err := c.in.run(2*time.Minute, c.base, "pg_basebackup", "-D", c.dataDir,
		"-h", primary.Host(), "-p", fmt.Sprint(primary.Port()), "-U", "postgres", "-X", "stream", "-R", "--no-sync", "--checkpoint=fast")
	if err != nil {
		return fmt.Errorf("pg_basebackup from %s: %v\n%s", primary.Addr(), err, out)
	}
	if err := os.Mkdir(c.sockDir, 0o755); err != nil {
		return err
	}
	return c.in.chown(c.sockDir)
}

// Promote turns a standby into a primary (pg_ctl promote) and waits until
// it accepts writes.
func (c *Cluster) Promote(t testing.TB) {
	t.Helper()
	if err := c.PgCtl("promote", "-w", "-t", "60"); err != nil {
		t.Fatalf("pgtest: promote: %v\n%s", err, tail(c.Log(), 20))
	}
}
