package main

import (
	"os/exec"
	"strings"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// describeMachine describes this machine and its wrk; PostgreSQL's version
// comes once a cluster runs.
func describeMachine() benchkit.Machine {
	m := benchkit.DescribeMachine()
	m.Versions = [][2]string{{"wrk", wrkVersion()}}
	return m
}

func wrkVersion() string {
	out, _ := exec.Command("wrk", "-v").CombinedOutput() // exits 1 after printing
	line, _, _ := strings.Cut(string(out), "\n")
	if line == "" {
		return "unknown"
	}
	return strings.TrimSpace(line)
}
