package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that makes Shared use an existing
// server instead of starting one. Its value is a DSN (URL or key=value form)
// of a role allowed to CREATE and DROP databases.
const EnvDSN = "DBHEALTH_TEST_DSN"

// Server is a PostgreSQL server tests can create databases on: a Cluster, or
// the existing server named by DBHEALTH_TEST_DSN.
type Server interface {
	// NewDatabase creates a fresh database with a random name (t_<random>)
	// and returns a DSN (postgres://user[:pass]@host:port/db?sslmode=disable)
	// for it as superuser over TCP. The database is dropped (WITH (FORCE))
	// in t.Cleanup.
	NewDatabase(t testing.TB) string
	// Exec runs SQL (may be several statements) in database db as superuser;
	// t.Fatal on error.
	Exec(t testing.TB, db, sql string)
}

var (
	sharedMu  sync.Mutex
	shared    *Cluster
	sharedErr error
)

// Shared returns one cluster shared by all tests of the package, started on
// first use and stopped by Main, or, if DBHEALTH_TEST_DSN is set, the
// existing server it names. Tests that stop, kill or reconfigure the server
// must use New instead.
func Shared(t testing.TB) Server {
	t.Helper()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		if _, err := pgx.ParseConfig(dsn); err != nil {
			t.Fatalf("pgtest: %s is not a valid DSN: %v", EnvDSN, err)
		}
		return &externalServer{dsn: dsn}
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = startCluster(nil)
	}
	if sharedErr != nil {
		t.Fatalf("pgtest: starting the shared cluster: %v", sharedErr)
	}
	return shared
}

// DSN returns a URL DSN for database db as superuser postgres over TCP.
func (c *Cluster) DSN(db string) string {
	return c.RoleDSN("postgres", "", db)
}

// RoleDSN returns a URL DSN for database db as role with password over TCP.
func (c *Cluster) RoleDSN(role, password, db string) string {
	if db == "" {
		db = "postgres"
	}
	u := url.URL{Scheme: "postgres", Host: c.Addr(), Path: "/" + db, RawQuery: "sslmode=disable"}
	if password != "" {
		u.User = url.UserPassword(role, password)
	} else {
		u.User = url.User(role)
	}
	return u.String()
}

// NewDatabase implements Server.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	name := randomDBName(t)
	c.Exec(t, "postgres", "CREATE DATABASE "+quoteIdent(name))
	t.Cleanup(func() {
		if !c.running() {
			return // stopped or killed by the test; it is removed anyway
		}
		if err := execSQL(c.DSN("postgres"), "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

// Exec implements Server.
func (c *Cluster) Exec(t testing.TB, db, sql string) {
	t.Helper()
	if err := execSQL(c.DSN(db), sql); err != nil {
		t.Fatalf("pgtest: Exec in database %q on %s: %v\nSQL: %s", db, c.Addr(), err, sql)
	}
}

// CreateRole creates a LOGIN role with a (scram-sha-256) password. Over TCP
// every role other than postgres must authenticate with its password.
func (c *Cluster) CreateRole(t testing.TB, name, password string) {
	t.Helper()
	c.Exec(t, "postgres", "SET password_encryption = 'scram-sha-256'; CREATE ROLE "+
		quoteIdent(name)+" LOGIN PASSWORD "+quoteLiteral(password))
}

// externalServer is the server named by DBHEALTH_TEST_DSN.
type externalServer struct {
	dsn string
}

func (s *externalServer) NewDatabase(t testing.TB) string {
	t.Helper()
	name := randomDBName(t)
	if err := execSQL(s.dsn, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		t.Fatalf("pgtest: creating database on %s server: %v", EnvDSN, err)
	}
	t.Cleanup(func() {
		if err := execSQL(s.dsn, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return replaceDatabase(s.dsn, name)
}

func (s *externalServer) Exec(t testing.TB, db, sql string) {
	t.Helper()
	dsn := s.dsn
	if db != "" {
		dsn = replaceDatabase(dsn, db)
	}
	if err := execSQL(dsn, sql); err != nil {
		t.Fatalf("pgtest: Exec in database %q on %s server: %v\nSQL: %s", db, EnvDSN, err, sql)
	}
}

// execSQL runs sql (simple protocol, so several statements are fine) on a
// new connection.
func execSQL(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// replaceDatabase returns dsn with its database replaced by db. dsn is a URL
// (postgres:// or postgresql://) or a key=value string.
func replaceDatabase(dsn, db string) string {
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		if !strings.HasPrefix(dsn, scheme) {
			continue
		}
		rest := dsn[len(scheme):]
		// Authority ends at the first '/', '?' or '#'. Done by hand because
		// net/url rejects multi-host URLs (h1:5432,h2:5432).
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		authority, after := rest[:end], rest[end:]
		if strings.HasPrefix(after, "/") {
			if i := strings.IndexAny(after, "?#"); i >= 0 {
				after = after[i:]
			} else {
				after = ""
			}
		}
		return scheme + authority + "/" + url.PathEscape(db) + after
	}
	return dsn + " dbname=" + quoteKeywordValue(db)
}

func quoteKeywordValue(v string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", `\'`) + "'"
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func randomDBName(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return fmt.Sprintf("t_%s", hex.EncodeToString(b))
}
