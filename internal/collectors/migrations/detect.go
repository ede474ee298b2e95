package migrations

import (
	"fmt"
	"slices"
	"strings"
)

// checkError is a failure of the check itself, with its reason.
type checkError struct {
	reason string
	msg    string
}

func (e *checkError) Error() string { return e.msg }

// resolve picks the tool and where its history lives: the forced tool, or
// the one tool whose main table the catalog shows.
func resolve(cat *Catalog, opts Options) (Tool, Location, error) {
	if opts.Tool != "" {
		tool, _ := Lookup(opts.Tool)
		loc, ok := locate(cat, tool, opts)
		if !ok {
			return nil, Location{}, &checkError{ReasonMissingTable, fmt.Sprintf("no %s table %s found: has %s run against this database?",
				tool.Name(), quoted(opts.Schema, mainTable(tool, opts)), tool.Name())}
		}
		return tool, loc, nil
	}
	var found []Tool
	var locs []Location
	for _, tool := range Tools {
		loc, ok := locate(cat, tool, opts)
		if ok && tool.Detect(cat, mustLookup(cat, loc)) {
			found = append(found, tool)
			locs = append(locs, loc)
		}
	}
	switch len(found) {
	case 1:
		return found[0], locs[0], nil
	case 0:
		return nil, Location{}, &checkError{ReasonMissingTable, "no migration history table found (looked for " +
			strings.Join(allTables(opts), ", ") + "); set --migrations.tool and --migrations.table if the tool uses other names"}
	default:
		names := make([]string, len(found))
		for i, t := range found {
			names[i] = t.Name()
		}
		return nil, Location{}, &checkError{ReasonAmbiguousTool, "history tables of several tools found (" +
			strings.Join(names, ", ") + "): set --migrations.tool"}
	}
}

// locate finds tool's main table in the catalog.
func locate(cat *Catalog, tool Tool, opts Options) (Location, bool) {
	schema := opts.Schema
	if schema == "" {
		schema = tool.DefaultSchema()
	}
	t, ok := cat.Lookup(mainTable(tool, opts), schema)
	return Location{Schema: t.Schema, Table: t.Name}, ok
}

func mustLookup(cat *Catalog, loc Location) Table {
	t, _ := cat.Lookup(loc.Table, loc.Schema)
	return t
}

// mainTable is --migrations.table or the tool's default.
func mainTable(tool Tool, opts Options) string {
	if opts.Table != "" {
		return opts.Table
	}
	return tool.Tables()[0]
}

// allTables lists every table name the catalog must be read for: each
// tool's tables and, with --migrations.table, the sibling tables that name
// implies (Rails' prefixed ar_internal_metadata, Knex's <table>_lock).
func allTables(opts Options) []string {
	var names []string
	add := func(name string) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if opts.Table != "" {
		add(opts.Table)
	}
	for _, tool := range Tools {
		tables := tool.Tables()
		for _, t := range tables {
			add(t)
		}
		if opts.Table != "" {
			for _, sibling := range tables[1:] {
				if renamed, ok := siblingOf(opts.Table, tables[0], sibling); ok {
					add(renamed)
				}
			}
		}
	}
	return names
}

// siblingOf derives the name of a tool's sibling table when its main table
// is renamed: a prefix or suffix around the default name carries over
// (app_schema_migrations -> app_ar_internal_metadata), and a sibling named
// after the main table follows it (my_migrations -> my_migrations_lock).
func siblingOf(renamed, main, sibling string) (string, bool) {
	switch {
	case strings.Contains(renamed, main):
		return strings.Replace(renamed, main, sibling, 1), true
	case strings.HasPrefix(sibling, main):
		return renamed + strings.TrimPrefix(sibling, main), true
	}
	return "", false
}

func quoted(schema, table string) string {
	if schema == "" {
		return fmt.Sprintf("%q", table)
	}
	return fmt.Sprintf("%q.%q", schema, table)
}
