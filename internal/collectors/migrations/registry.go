package migrations

// Tools are the migration tools the check knows, in detection order. A new
// tool is one file and one line here.
var Tools = []Tool{
	golangMigrate{},
	goose{},
	dbmate{},
	rails{},
	tern{},
	sqlMigrate{},
	atlas{},
	flyway{},
	liquibase{},
	prisma{},
	alembic{},
	django{},
	knex{},
	nodePgMigrate{},
	sqitch{},
}

// Lookup returns the tool named name.
func Lookup(name string) (Tool, bool) {
	for _, t := range Tools {
		if t.Name() == name {
			return t, true
		}
	}
	return nil, false
}

// Names lists the tools' names, for flag help and errors.
func Names() []string {
	names := make([]string, len(Tools))
	for i, t := range Tools {
		names[i] = t.Name()
	}
	return names
}
