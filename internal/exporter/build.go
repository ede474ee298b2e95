package exporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/collectors/migrations"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
)

// built is what one configuration of the database and its checks makes: the
// pool and the checks' definitions. A reload builds the next one from the
// previous, reusing the pool while the connection settings are the same and
// each Checker while its settings are, so that the engine keeps their
// schedules.
type built struct {
	connKey string // the connection settings, password included
	pool    *pgxpool.Pool
	checks  map[string]builtCheck
	defs    []health.Definition
}

type builtCheck struct {
	key     string // the check's settings
	checker health.Checker
}

// connection is a configuration's connection settings, resolved: the
// files read and the string parsed.
type connection struct {
	key     string // the settings, password included
	poolCfg *pgxpool.Config
}

// resolve reads the connection string and password files and parses the
// connection string. It touches no network. Its errors are configuration
// errors; r learns every password it meets and masks them in the errors.
func resolve(t Target, getenv func(string) string, r *redact.Redactor) (connection, error) {
	db := t.Database
	dsn, err := connString(db)
	if err != nil {
		return connection{}, err
	}
	// Every check shares the pool: a connect may take as long as the
	// longest check timeout (each run is bounded by its own anyway).
	connectTimeout := t.Checks.longestTimeout()
	poolCfg, err := collectors.PoolConfig(dsn, collectors.WithConnectTimeout(connectTimeout))
	var parsed string
	if err == nil {
		parsed = poolCfg.ConnConfig.Password
	}
	r.Add(redact.ForConnString(dsn, parsed, getenv))
	if err != nil {
		return connection{}, fmt.Errorf("%s: %s", db.DSNSource, r.String(redact.ParseError(err)))
	}
	if db.PasswordFile != "" {
		password, err := readSecret(db.PasswordFile)
		if err != nil {
			return connection{}, fmt.Errorf("password file: %w", err)
		}
		poolCfg.ConnConfig.Password = password
		r.Add(redact.New(password))
	}
	return connection{key: fmt.Sprintf("%s\x00%s\x00%s", dsn, poolCfg.ConnConfig.Password, connectTimeout), poolCfg: poolCfg}, nil
}

// build makes the pool and the checks for a target and its resolved
// connection, reusing what prev has for the same settings. It touches no
// network.
func build(t Target, conn connection, prev *built, tp trace.TracerProvider, r *redact.Redactor) (*built, error) {
	b := &built{connKey: conn.key, checks: map[string]builtCheck{}}
	if prev != nil && prev.connKey == b.connKey {
		b.pool = prev.pool
	} else {
		if tp != nil {
			// The checks' SQL, connects and pool acquisitions become child spans.
			conn.poolCfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
		}
		var err error
		if b.pool, err = pgxpool.NewWithConfig(context.Background(), conn.poolCfg); err != nil { // does not connect
			return nil, errors.New(r.String(err.Error()))
		}
	}
	if err := b.define(t, prev); err != nil {
		b.closeUnless(prev)
		return nil, err
	}
	return b, nil
}

// define makes the definitions: the database check always, the migrations
// check when the configuration enables it.
func (b *built) define(t Target, prev *built) error {
	reuse := func(name, key string, create func() (health.Checker, error)) (health.Checker, error) {
		if prev != nil && prev.pool == b.pool {
			if c, ok := prev.checks[name]; ok && c.key == key {
				b.checks[name] = c
				return c.checker, nil
			}
		}
		checker, err := create()
		if err == nil {
			b.checks[name] = builtCheck{key: key, checker: checker}
		}
		return checker, err
	}
	dbOpts := collectors.DatabaseOptions{Expect: t.Database.Expect}
	db, _ := reuse("database", fmt.Sprintf("%+v", dbOpts), func() (health.Checker, error) {
		db := collectors.NewDatabase(b.pool, dbOpts)
		if prev != nil {
			previous, _ := prev.checks["database"].checker.(*collectors.Database)
			db.Continue(previous) // the server's facts outlive a rotation
		}
		return db, nil
	})
	b.defs = []health.Definition{t.Checks.Database.define(t.Checks.Defaults,
		health.Definition{Name: "database", Critical: true, Checker: db})}

	if m := t.Checks.Migrations; m.Enabled() {
		opts := migrations.Options{
			Dir: m.Dir, Tool: m.Tool, Table: m.Table, Schema: m.Schema,
			ExpectedVersion: m.ExpectedVersion, FailOnUnknown: m.FailOnUnknown,
		}
		check, err := reuse("migrations", fmt.Sprintf("%+v", opts), func() (health.Checker, error) {
			return migrations.New(b.pool, opts)
		})
		if err != nil {
			return fmt.Errorf("migrations tool: %w", err)
		}
		b.defs = append(b.defs, m.Check.define(t.Checks.Defaults,
			health.Definition{Name: "migrations", Critical: true, Checker: check}))
	}
	if r := t.Checks.ReplicationLag; r != nil {
		opts := collectors.ReplicationLagOptions{MaxLag: r.MaxLag, MaxLagBytes: r.MaxLagBytes}
		check, _ := reuse("replication_lag", fmt.Sprintf("%+v", opts), func() (health.Checker, error) {
			return collectors.NewReplicationLag(b.pool, opts), nil
		})
		b.defs = append(b.defs, r.Check.define(t.Checks.Defaults,
			health.Definition{Name: "replication_lag", Critical: true, Checker: check}))
	}
	if c := t.Checks.Connections; c != nil {
		opts := collectors.ConnectionsOptions{MaxUsedRatio: c.MaxUsedRatio, MinFree: c.MinFree}
		check, _ := reuse("connections", fmt.Sprintf("%+v", opts), func() (health.Checker, error) {
			return collectors.NewConnections(b.pool, opts), nil
		})
		b.defs = append(b.defs, c.Check.define(t.Checks.Defaults,
			health.Definition{Name: "connections", Critical: false, Checker: check}))
	}
	for _, c := range t.Checks.Custom {
		opts := collectors.CustomOptions{SQL: c.SQL, Min: c.Min, Max: c.Max, MinRows: c.MinRows, MaxRows: c.MaxRows}
		check, err := reuse(c.Name, customKey(opts), func() (health.Checker, error) {
			return collectors.NewCustom(b.pool, opts)
		})
		if err != nil {
			return fmt.Errorf("custom check %q: %w", c.Name, err)
		}
		b.defs = append(b.defs, c.Check.define(t.Checks.Defaults,
			health.Definition{Name: c.Name, Critical: true, Checker: check}))
	}
	return nil
}

// customKey spells a custom check's settings, bounds by value.
func customKey(o collectors.CustomOptions) string {
	return fmt.Sprintf("%q min=%s max=%s min_rows=%s max_rows=%s", o.SQL, deref(o.Min), deref(o.Max), deref(o.MinRows), deref(o.MaxRows))
}

func deref[T any](p *T) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// closeUnless closes b's pool unless prev shares it.
func (b *built) closeUnless(prev *built) {
	if prev == nil || prev.pool != b.pool {
		b.pool.Close()
	}
}

// connString is the connection string the configuration names: the
// content of the DSN file, or the DSN itself.
func connString(db Database) (string, error) {
	if db.DSNFile == "" {
		return db.DSN, nil
	}
	dsn, err := readSecret(db.DSNFile)
	if err != nil {
		return "", fmt.Errorf("%s: %w", db.DSNSource, err)
	}
	return dsn, nil
}

// readSecret reads a file holding one secret value, without the white
// space around it (a trailing newline, most often).
func readSecret(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}
