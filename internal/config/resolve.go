package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
)

// Resolve is the configuration as it is now: flags (what the command line
// set; given names the flags it set explicitly), then the configuration
// file at path (if any) under them, then DATABASE_URL if nothing else named
// the database (libpq's PG* variables apply if it is not set either). The
// command calls it at start and on every reload.
func Resolve(flags exporter.Config, given map[string]bool, path string, getenv func(string) string) (exporter.Config, error) {
	cfg := flags
	if path != "" {
		f, err := Load(path, getenv)
		if err != nil {
			return exporter.Config{}, err
		}
		f.Apply(&cfg, func(flag string) bool { return given[flag] })
	}
	if len(cfg.Targets) > 0 {
		for _, flag := range singleTargetFlags {
			if given[flag] {
				return exporter.Config{}, fmt.Errorf("--%s: applies to one database, and %s has targets", flag, path)
			}
		}
		return cfg, nil
	}
	if cfg.Database.DSN == "" && cfg.Database.DSNFile == "" {
		cfg.Database.DSN, cfg.Database.DSNSource = getenv("DATABASE_URL"), "DATABASE_URL"
		if cfg.Database.DSN == "" {
			cfg.Database.DSNSource = "PG* variables"
		}
	}
	if m := cfg.Checks.Migrations; (m.Table != "" || m.Schema != "" || m.FailOnUnknown) && !m.Enabled() {
		return exporter.Config{}, errors.New("--migrations.table, --migrations.schema and --migrations.fail-on-unknown need --migrations.dir, --migrations.tool or --migrations.expected-version (or the file's checks.migrations)")
	}
	return cfg, nil
}

// singleTargetFlags are the flags that configure the one database of the
// sidecar: refused in fleet mode, where each target has its own.
var singleTargetFlags = []string{"db.dsn", "db.dsn-file", "db.password-file", "db.expect-primary", "target.name",
	"migrations.dir", "migrations.tool", "migrations.table", "migrations.schema", "migrations.expected-version", "migrations.fail-on-unknown"}

// Shard is the shard this replica is: --shard (flag; -1 when not given),
// or with more than one shard, the ordinal that ends a StatefulSet pod's
// name ($POD_NAME, else the host name: "dbhealth-2" is shard 2).
func Shard(flag, total int, getenv func(string) string) (int, error) {
	switch {
	case total < 1:
		return 0, fmt.Errorf("--total-shards: must be at least 1, got %d", total)
	case flag >= total:
		return 0, fmt.Errorf("--shard: %d is not below --total-shards %d", flag, total)
	case flag >= 0 || total == 1:
		return max(flag, 0), nil
	}
	name := getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	dash := strings.LastIndex(name, "-")
	n, err := strconv.Atoi(name[dash+1:])
	if dash < 0 || err != nil || n < 0 {
		return 0, fmt.Errorf("--shard: not given, and %q (POD_NAME or the host name) does not end with a StatefulSet ordinal", name)
	}
	if n >= total {
		return 0, fmt.Errorf("--shard: %q is ordinal %d, not below --total-shards %d", name, n, total)
	}
	return n, nil
}
