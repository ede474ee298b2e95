package migrations

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sqitchEnv isolates sqitch from any user or system configuration and
// names the planner.
func sqitchEnv(t *testing.T) []string {
	home := t.TempDir()
	return []string{
		"HOME=" + home,
		"SQITCH_USER_CONFIG=" + filepath.Join(home, "none.conf"),
		"SQITCH_SYSTEM_CONFIG=" + filepath.Join(home, "none.conf"),
		"SQITCH_FULLNAME=Dee Bee", "SQITCH_EMAIL=dee@example.com",
	}
}

// sqitchTarget turns a pgtest DSN into a sqitch target URI.
func sqitchTarget(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return "db:pg://" + u.User.Username() + "@" + u.Host + u.Path
}

func TestCompat_Sqitch(t *testing.T) {
	bin := requireTool(t, "sqitch")
	dsn := freshDatabase(t)
	dir := t.TempDir()
	env := sqitchEnv(t)
	sq := func(args ...string) (string, error) { return tool(t, dir, env, bin, args...) }
	must := func(args ...string) string { return mustTool(t, dir, env, bin, args...) }
	deploy := func(name, sql string) { writeFiles(t, dir, map[string]string{"deploy/" + name + ".sql": sql}) }
	opts := Options{Dir: dir}

	must("init", "flipr", "--engine", "pg", "--target", sqitchTarget(t, dsn))
	must("add", "users", "-n", "Add users")
	must("add", "email", "--requires", "users", "-n", "Add email")
	deploy("users", "BEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n")
	deploy("email", "BEGIN;\r\nALTER TABLE users ADD COLUMN email text;\r\nCOMMIT;\r\n")
	must("deploy")
	// No checksum mismatch: script_hash is the SHA-1 of the deploy script.
	expect(t, dsn, opts, expectation{tool: "sqitch", applied: 2})

	must("add", "flips", "-n", "Add flips")
	deploy("flips", "CREATE TABLE flips (id int);\n")
	writeFiles(t, dir, map[string]string{"revert/flips.sql": "DROP TABLE flips;\n"})
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "sqitch", applied: 2, pending: []string{"flips"}})

	// A failed deploy logs a 'fail' event and no change; by default sqitch
	// also reverts what the run deployed before (flips). broken's first
	// statement, outside a transaction, stays: it is dirty, not pending.
	must("add", "broken", "-n", "Fails half way")
	deploy("broken", "CREATE TABLE partial (id int);\nALTER TABLE no_such_table ADD COLUMN x int;\n")
	if out, err := sq("deploy"); err == nil || !strings.Contains(out, "no_such_table") {
		t.Fatalf("the broken change deployed (%v):\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonDirty, tool: "sqitch", applied: 2, pending: []string{"flips"}, dirty: []string{"broken"}})

	deploy("broken", "CREATE TABLE IF NOT EXISTS partial (id int);\n")
	must("deploy")
	expect(t, dsn, opts, expectation{tool: "sqitch", applied: 4})

	// A deployed script edited afterwards.
	email := filepath.Join(dir, "deploy", "email.sql")
	original, _ := os.ReadFile(email)
	deploy("email", "BEGIN;\nALTER TABLE users ADD COLUMN email varchar(200);\nCOMMIT;\n")
	expect(t, dsn, opts, expectation{reason: ReasonChecksumMismatch, tool: "sqitch", applied: 4, checksumMismatches: []string{"email"}})
	deploy("email", string(original))

	// A rework: the plan has users twice, the older one's script moves to
	// deploy/users@v1.sql and still matches its script_hash.
	must("tag", "v1", "-n", "Tag v1")
	must("rework", "users", "-n", "Rework users")
	deploy("users", "ALTER TABLE users ADD COLUMN nick text;\n")
	if _, err := os.Stat(filepath.Join(dir, "deploy", "users@v1.sql")); err != nil {
		t.Fatalf("sqitch rework did not copy the script as the parser expects: %v", err)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "sqitch", applied: 4, pending: []string{"users"}})
	must("deploy")
	r := expect(t, dsn, opts, expectation{tool: "sqitch", applied: 5})
	if r.LatestApplied != "flipr:users" || r.LatestOnDisk != "flipr:users" {
		t.Fatalf("latest applied %q, on disk %q", r.LatestApplied, r.LatestOnDisk)
	}

	// Code without a change the database has: informational.
	plan := filepath.Join(dir, "sqitch.plan")
	content, _ := os.ReadFile(plan)
	var kept []string
	for _, line := range strings.Split(string(content), "\n") {
		if !strings.HasPrefix(line, "broken ") {
			kept = append(kept, line)
		}
	}
	writeFiles(t, dir, map[string]string{"sqitch.plan": strings.Join(kept, "\n")})
	expect(t, dsn, opts, expectation{tool: "sqitch", applied: 5, unknown: []string{"broken"}})
	expect(t, dsn, Options{}, expectation{tool: "sqitch", applied: 5})
}

func TestCompat_Sqitch_CustomRegistry(t *testing.T) {
	bin := requireTool(t, "sqitch")
	dsn := freshDatabase(t)
	dir := t.TempDir()
	env := sqitchEnv(t)
	mustTool(t, dir, env, bin, "init", "flipr", "--engine", "pg", "--target", sqitchTarget(t, dsn))
	mustTool(t, dir, env, bin, "add", "users", "-n", "Add users")
	writeFiles(t, dir, map[string]string{"deploy/users.sql": "CREATE TABLE users (id int);\n"})
	mustTool(t, dir, env, bin, "deploy", "--registry", "meta")
	expect(t, dsn, Options{Dir: dir, Schema: "meta"}, expectation{tool: "sqitch", applied: 1})
	res, _ := check(t, dsn, Options{Dir: dir})
	if res.Reason != ReasonMissingTable {
		t.Fatalf("the default registry schema is sqitch: %s %v", res.Reason, res.Err)
	}
}
