// Package collectors holds the checks dbhealth-exporter runs: each file is
// one health.Checker and the Details it reports, and a Checker with metrics
// of its own implements metrics.CheckCollector next to it (the database
// check's dbhealth_up, dbhealth_database_* and dbhealth_pool_* are in
// database_metrics.go), building them from the check's entry in the
// snapshot being scraped. The migrations check is the subpackage
// migrations.
//
// Checks connect through WithFreshConn over a pool from PoolConfig: the
// connect ends by the run's deadline, and its failures are one line naming
// the phase, the address and the cause (describe.go), classified by Reason.
//
//	db := collectors.NewDatabase(pool, collectors.DatabaseOptions{ExpectPrimary: true})
//	def := health.Definition{Name: "database", Checker: db, Critical: true}
package collectors
