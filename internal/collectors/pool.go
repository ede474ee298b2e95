package collectors

import (
	"context"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// PoolSize is enough for the checks to run side by side and no more: the
// exporter must never be a noticeable client of the database it watches.
const PoolSize = 2

// PoolOption tunes PoolConfig.
type PoolOption func(*poolOptions)

type poolOptions struct {
	connectTimeout time.Duration
}

// WithConnectTimeout bounds every connection the pool opens (DNS, TCP, TLS
// and authentication) by d, the checks' timeout; a shorter connect_timeout
// in the DSN wins, a longer one or none does not. Default
// health.DefaultTimeout.
func WithConnectTimeout(d time.Duration) PoolOption {
	return func(o *poolOptions) { o.connectTimeout = d }
}

// PoolConfig parses a connection string (libpq's PG* variables fill in what
// it leaves out) into the configuration of the exporter's small pool.
//
// Every connection it opens is bounded twice. pgxpool opens connections in
// the background, outside the context of the Acquire that asked for one,
// so a check's deadline alone would not stop a connect to a server that
// accepts TCP and never answers: the attempt would hold a pool slot for as
// long as it hangs. Hence the connect timeout (at most the checks'
// timeout), and, for a connection asked for by WithFreshConn, the run's own
// deadline, which the lookup, the dial and the socket (TLS and
// authentication) honour: an abandoned attempt ends with its run.
func PoolConfig(dsn string, opts ...PoolOption) (*pgxpool.Config, error) {
	o := poolOptions{connectTimeout: health.DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = PoolSize
	cfg.MinConns = 0
	// Every check opens a fresh connection; prepared statements would cost
	// a round trip and never be reused.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "dbhealth-exporter"
	}
	cc := &cfg.ConnConfig.Config
	if o.connectTimeout > 0 && (cc.ConnectTimeout <= 0 || cc.ConnectTimeout > o.connectTimeout) {
		cc.ConnectTimeout = o.connectTimeout
	}
	cc.LookupFunc = boundedLookup(cc.LookupFunc, cc.ConnectTimeout)
	cc.DialFunc = boundedDial(cc.DialFunc)
	return cfg, nil
}

// runDeadlineKey carries a check run's deadline to the pool's background
// connect (see WithFreshConn).
type runDeadlineKey struct{}

func runDeadline(ctx context.Context) (time.Time, bool) {
	d, ok := ctx.Value(runDeadlineKey{}).(time.Time)
	return d, ok
}

// boundedLookup resolves host names by the run's deadline, or within
// timeout: pgconn applies its connect timeout only after the lookup.
func boundedLookup(lookup pgconn.LookupFunc, timeout time.Duration) pgconn.LookupFunc {
	return func(ctx context.Context, host string) ([]string, error) {
		var cancel context.CancelFunc
		if d, ok := runDeadline(ctx); ok {
			ctx, cancel = context.WithDeadline(ctx, d)
		} else {
			ctx, cancel = context.WithTimeout(ctx, timeout)
		}
		defer cancel()
		return lookup(ctx, host)
	}
}

// boundedDial dials by the run's deadline and leaves that deadline on the
// socket, so that TLS and authentication end by it too; WithFreshConn
// clears it once connected. Without a run's deadline it dials as before
// (pgconn's connect timeout applies).
func boundedDial(dial pgconn.DialFunc) pgconn.DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d, ok := runDeadline(ctx)
		if !ok {
			return dial(ctx, network, addr)
		}
		ctx, cancel := context.WithDeadline(ctx, d)
		defer cancel()
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := conn.SetDeadline(d); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}
