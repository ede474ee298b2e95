// Package config reads the configuration file (--config.file): YAML,
// strict (an unknown key or a value of the wrong type is an error naming the
// file, line and key), every key optional. Load reads and checks it; Apply
// merges it into an exporter.Config under the command line's flags.
//
//	f, err := config.Load(path, os.Getenv)
//	if err != nil { ... }              // *config.Error: file:line: key: problem
//	f.Apply(&cfg, flagGiven)           // flags given on the command line win
//
// The keys are documented in docs/configuration.md, and
// examples/dbhealth.yml shows each of them.
package config
