package collectors

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolSize is enough for the checks to run side by side and no more: the
// exporter must never be a noticeable client of the database it watches.
const PoolSize = 2

// PoolConfig parses a connection string (libpq's PG* variables fill in what
// it leaves out) into the configuration of the exporter's small pool.
func PoolConfig(dsn string) (*pgxpool.Config, error) {
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
	return cfg, nil
}
