package migrations

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Catalog is what the database has of the tables the tools use.
type Catalog struct {
	tables []Table // current schema first
}

// Table is one table with its columns.
type Table struct {
	Schema  string
	Name    string
	Columns map[string]string // column name -> information_schema data_type
}

// Lookup finds a table by name, in schema if given, else preferring the
// connection's current schema.
func (c *Catalog) Lookup(name, schema string) (Table, bool) {
	for _, t := range c.tables {
		if t.Name == name && (schema == "" || t.Schema == schema) {
			return t, true
		}
	}
	return Table{}, false
}

// Has reports whether a table named name exists in schema.
func (c *Catalog) Has(name, schema string) bool {
	_, ok := c.Lookup(name, schema)
	return ok
}

// readCatalog reads the columns of every table named in names.
func readCatalog(ctx context.Context, db Querier, names []string) (*Catalog, error) {
	rows, err := db.Query(ctx, `
		SELECT table_schema, table_name, column_name, data_type
		FROM information_schema.columns
		WHERE table_name = ANY($1)
		ORDER BY table_schema = current_schema() DESC, table_schema, table_name, ordinal_position`, names)
	if err != nil {
		return nil, err
	}
	cat := &Catalog{}
	var schema, table, column, kind string
	_, err = pgx.ForEachRow(rows, []any{&schema, &table, &column, &kind}, func() error {
		i := slices.IndexFunc(cat.tables, func(t Table) bool { return t.Schema == schema && t.Name == table })
		if i < 0 {
			cat.tables = append(cat.tables, Table{Schema: schema, Name: table, Columns: map[string]string{}})
			i = len(cat.tables) - 1
		}
		cat.tables[i].Columns[column] = kind
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cat, nil
}
