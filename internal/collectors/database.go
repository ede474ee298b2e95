package collectors

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// DatabaseOptions tune the database check.
type DatabaseOptions struct {
	// Expect is what kind of server the service needs: ExpectPrimary (a
	// server that takes writes), ExpectReplica (a read service's replica)
	// or ExpectAny, the default ("").
	Expect string
}

// The expectations of DatabaseOptions.Expect.
const (
	ExpectAny     = "any"
	ExpectPrimary = "primary"
	ExpectReplica = "replica"
)

// Database is the database check: it opens a connection through the pool,
// runs SELECT 1, reads the server version and pg_is_in_recovery(), and
// closes the connection again.
//
// The connection is new on every run on purpose: most of the failures a
// service meets (refused, auth_failed, too_many_connections, dns, tls,
// starting_up) happen only when connecting, and a long-lived connection
// would keep reporting "ok" through them.
//
// What a run learns about the server (version, recovery) outlives the
// run: the check keeps the last LastSeen and puts it in the details of
// every run until a run reaches the server again, so that an outage does
// not blank the server's facts.
type Database struct {
	pool     *pgxpool.Pool
	opts     DatabaseOptions
	lastSeen atomic.Pointer[LastSeen]
}

// NewDatabase returns the database check over pool. It does not connect.
func NewDatabase(pool *pgxpool.Pool, opts DatabaseOptions) *Database {
	return &Database{pool: pool, opts: opts}
}

// Continue makes d start from what prev last saw of the server: a
// configuration reload that replaces the check (rotated credentials, a
// new expectation) keeps the server's facts. prev may be nil.
func (d *Database) Continue(prev *Database) {
	if prev != nil {
		d.lastSeen.Store(prev.lastSeen.Load())
	}
}

// Run performs one check under ctx's deadline.
func (d *Database) Run(ctx context.Context) health.Result {
	details := &DatabaseDetails{Database: d.pool.Config().ConnConfig.Database}
	res := d.run(ctx, details)
	if details.LastSeen != nil {
		d.lastSeen.Store(details.LastSeen)
	} else {
		details.LastSeen = d.lastSeen.Load()
	}
	details.Pool = d.pool.Stat()
	res.Details = details
	return res
}

// Reasons are every reason the check reports (see health.Checker):
// ConnectionReasons, read_only and not_replica.
func (*Database) Reasons() []string {
	return append(ConnectionReasons(), ReasonReadOnly, ReasonNotReplica)
}

// expectation judges the server against DatabaseOptions.Expect.
func (d *Database) expectation(inRecovery, readOnly bool) health.Result {
	switch {
	case d.opts.Expect == ExpectPrimary && inRecovery:
		return health.Result{Err: errors.New("connected to a replica (pg_is_in_recovery() is true) but a primary is expected"), Reason: ReasonReadOnly}
	case d.opts.Expect == ExpectPrimary && readOnly:
		return health.Result{Err: errors.New("the server is in read-only mode (transaction_read_only is on: default_transaction_read_only) but a primary taking writes is expected"), Reason: ReasonReadOnly}
	case d.opts.Expect == ExpectReplica && !inRecovery:
		return health.Result{Err: errors.New("connected to a primary (pg_is_in_recovery() is false) but a replica is expected"), Reason: ReasonNotReplica}
	}
	return health.Result{}
}

func (d *Database) run(ctx context.Context, details *DatabaseDetails) health.Result {
	start := time.Now()
	var res health.Result
	err := WithFreshConn(ctx, d.pool, func(conn *pgx.Conn, connected time.Time) error {
		details.ConnectSeconds = connected.Sub(start).Seconds()
		ping := time.Now()
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			return err
		}
		details.PingSeconds = time.Since(ping).Seconds()
		var inRecovery, readOnly bool
		// transaction_read_only is on in recovery, and on a primary put in
		// read-only mode (default_transaction_read_only, for this role or
		// this database, or the whole server).
		if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'").Scan(&inRecovery, &readOnly); err != nil {
			return err
		}
		details.LastSeen = &LastSeen{
			ServerVersion: conn.PgConn().ParameterStatus("server_version"),
			InRecovery:    inRecovery,
			ReadOnly:      readOnly,
			At:            time.Now().UTC(), // as checked_at in the probe JSON
		}
		res = d.expectation(inRecovery, readOnly)
		return nil
	})
	if err != nil {
		return Failure(ctx, err)
	}
	return res
}

// Failure classifies a connection or query error (as WithFreshConn returns
// them: one line, see describe); when the run's own deadline caused it, the
// reason is timeout whatever the error looks like.
func Failure(ctx context.Context, err error) health.Result {
	reason := Reason(err)
	if ctx.Err() != nil && reason == ReasonOther {
		reason = ReasonTimeout
	}
	return health.Result{Err: err, Reason: reason}
}

// DatabaseDetails are what the database check saw on its last run. Fields
// it could not learn (the server was unreachable) stay empty, except the
// server's facts, which are those of the last run that reached it.
type DatabaseDetails struct {
	Database string `json:"database,omitempty"`
	// LastSeen is what the last run that reached the server learned: this
	// run's, or an earlier run's while the server is unreachable; nil until
	// a run has reached it. Its fields appear in the probe JSON among the
	// others (server_version, in_recovery, last_seen).
	*LastSeen
	ConnectSeconds float64 `json:"connect_seconds,omitempty"`
	PingSeconds    float64 `json:"ping_seconds,omitempty"`
	// Pool is the pool's state right after the run.
	Pool *pgxpool.Stat `json:"-"`
}

// LastSeen is what a database check run learned about the server, and
// when. It is never modified once made: a run that reaches the server
// makes a new one, a run that does not carries the previous one.
type LastSeen struct {
	ServerVersion string `json:"server_version"`
	InRecovery    bool   `json:"in_recovery"`
	// ReadOnly is transaction_read_only for the exporter's session: on in
	// recovery and on a primary in read-only mode.
	ReadOnly bool `json:"read_only"`
	// At is when the run read these facts.
	At time.Time `json:"last_seen"`
}

// Withheld is what anonymous clients see of the details (probes.Withholder):
// no database name, and the server's version without its distribution
// suffix ("15.18", not "15.18 (Debian 15.18-0+deb12u1)").
func (d *DatabaseDetails) Withheld() any {
	out := *d
	out.Database = ""
	if d.LastSeen != nil {
		seen := *d.LastSeen
		seen.ServerVersion, _, _ = strings.Cut(seen.ServerVersion, " ")
		out.LastSeen = &seen
	}
	return &out
}
