// Package migrations is the migrations check: it compares the migrations on
// disk (--migrations.dir, re-read on every run) with what the database
// records, for fifteen migration tools, and fails readiness on pending,
// dirty/failed, checksum-mismatched migrations, a stuck lock, or when it
// cannot tell (missing history table, unreadable directory).
//
// Each tool is one file: a pure parser for its files (ParseFiles) and a thin
// reader for its history table(s) (Status), registered in registry.go. The
// shared comparison lives in compare.go, detection in detect.go.
//
//	check, err := migrations.New(pool, migrations.Options{Dir: "/migrations"})
//	def := health.Definition{Name: "migrations", Checker: check, Critical: true}
package migrations
