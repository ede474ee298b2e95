package migrations

import (
	"context"
	"io/fs"

	"github.com/jackc/pgx/v5"
)

// Tool is one migration tool.
type Tool interface {
	// Name is the tool's --migrations.tool value, e.g. "golang-migrate".
	Name() string
	// Tables are the history tables the tool creates by default, main
	// table first.
	Tables() []string
	// DefaultSchema is where the tool keeps its tables when that is not
	// the connection's current schema ("" for the current schema).
	DefaultSchema() string
	// Detect reports whether table (the main table, found in the catalog)
	// is this tool's, judging by its columns and its sibling tables.
	Detect(cat *Catalog, table Table) bool
	// ParseFiles reads the migrations directory, in the tool's order.
	ParseFiles(fsys fs.FS) ([]Migration, error)
	// Status reads the history at loc and compares it with disk, which is
	// nil when no directory is configured.
	Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error)
}

// Querier is the part of a connection the tools use.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Location is where a tool's history lives in this database.
type Location struct {
	Schema string
	Table  string // the main table (--migrations.table or the default)
}

// Qualified returns a quoted schema.table for name in loc's schema.
func (l Location) Qualified(name string) string {
	return pgx.Identifier{l.Schema, name}.Sanitize()
}

// Main returns the quoted main table.
func (l Location) Main() string { return l.Qualified(l.Table) }

// Migration is one migration on disk.
type Migration struct {
	// Version is what the history records for it: a version number, a file
	// name, a revision id, "app.name".
	Version string
	// Name labels it in lists and payloads, e.g. "000003_add_index".
	Name string
	// Checksum is the tool's own checksum of the file, for tools that store
	// one; empty otherwise.
	Checksum string
	// Parents are the versions it follows, for tools with a graph
	// (Alembic's down_revision).
	Parents []string
}
