package migrations

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

const sqitchTestPlan = `%syntax-version=1.0.0
%project=flipr
# a comment in the header

users 2024-01-01T00:00:00Z Ann <ann@example.com> # Add users
email [users] 2024-01-02T00:00:00Z Ann <ann@example.com> # Add email
@v1 2024-01-03T00:00:00Z Ann <ann@example.com> # Tag v1

  flips [users flipr_other:base] 2024-01-04T00:00:00Z Ann <ann@example.com>
@v2 2024-01-05T00:00:00Z Ann <ann@example.com>
@v2b 2024-01-05T00:00:01Z Ann <ann@example.com>
users [users@v2] 2024-01-06T00:00:00Z Ann <ann@example.com> # Rework users
`

func sqitchSHA1(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSqitch_ParseFiles_PlanOrderWithReworkedChanges(t *testing.T) {
	fsys := fstest.MapFS{
		"sqitch.plan":            {Data: []byte(sqitchTestPlan)},
		"deploy/users.sql":       {Data: []byte("-- v2 of users\n")},
		"deploy/users@v2.sql":    {Data: []byte("-- v1 of users\n")},
		"deploy/email.sql":       {Data: []byte("ALTER TABLE users ADD email text;\r\n")},
		"revert/users.sql":       {Data: []byte("DROP TABLE users;\n")},
		"deploy/not-in-plan.sql": {Data: []byte("SELECT 1;\n")},
	}
	got, err := sqitch{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, m := range got {
		versions = append(versions, m.Version+"|"+m.Name+"|"+m.Checksum)
	}
	want := []string{
		"flipr:users@v1|users@v1|" + sqitchSHA1("-- v1 of users\n"), // reworked: its script is users@v2.sql
		"flipr:email|email|" + sqitchSHA1("ALTER TABLE users ADD email text;\r\n"),
		"flipr:flips|flips|", // no deploy script, no checksum
		"flipr:users|users|" + sqitchSHA1("-- v2 of users\n"),
	}
	if !slices.Equal(versions, want) {
		t.Fatalf("got\n%q\nwant\n%q", versions, want)
	}
}

func TestSqitch_ReworkTagsInSqitchsOrder(t *testing.T) {
	_, entries, err := parseSqitchPlan([]byte(sqitchTestPlan))
	if err != nil {
		t.Fatal(err)
	}
	// users @?: email @v1, flips @v2 @v2b, then the rework: Sqitch tries
	// the latest change's tags first, the change's own last.
	if got := sqitchReworkTags(entries, 0, sqitchNextInstance(entries, 0)); !slices.Equal(got, []string{"v2", "v2b", "v1"}) {
		t.Fatalf("rework tags %v", got)
	}
}

func TestSqitch_ParseFiles_RejectsBrokenPlans(t *testing.T) {
	for name, plan := range map[string]string{
		"no project":              "%syntax-version=1.0.0\n\nusers 2024-01-01T00:00:00Z A <a@b>\n",
		"no blank after pragmas":  "%project=x\nusers 2024-01-01T00:00:00Z A <a@b>\n",
		"tag before a change":     "%project=x\n\n@v1 2024-01-01T00:00:00Z A <a@b>\n",
		"duplicate without a tag": "%project=x\n\nusers 2024-01-01T00:00:00Z A <a@b>\nusers 2024-01-02T00:00:00Z A <a@b>\n",
	} {
		_, err := sqitch{}.ParseFiles(fstest.MapFS{"sqitch.plan": {Data: []byte(plan)}})
		var invalid *InvalidFileError
		if !errors.As(err, &invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := sqitch{}.ParseFiles(fstest.MapFS{"deploy/users.sql": {}})
	var invalid *InvalidFileError
	if !errors.As(err, &invalid) || invalid.File != "sqitch.plan" {
		t.Errorf("a directory without sqitch.plan: %v", err)
	}
}

func TestSqitchRows_InstancesInDeployOrderAndFailures(t *testing.T) {
	disk := []Migration{
		{Version: "flipr:users@v1", Name: "users@v1"},
		{Version: "flipr:email", Name: "email"},
		{Version: "flipr:users", Name: "users"},
		{Version: "flipr:broken", Name: "broken"},
	}
	deployed := []sqitchRecord{
		{Project: "flipr", Change: "users", ChangeID: "aaa", ScriptHash: "h1"},
		{Project: "flipr", Change: "email", ChangeID: "bbb", ScriptHash: "h2"},
		{Project: "flipr", Change: "gone", ChangeID: "ccc"},
	}
	failed := []sqitchRecord{{Project: "flipr", Change: "users", ChangeID: "ddd"}}
	r := compareRows(disk, sqitchRows(disk, deployed, failed))
	if r.AppliedCount != 3 || r.LatestApplied != "flipr:gone" ||
		!slices.Equal(r.Dirty, []string{"users"}) || !slices.Equal(r.Pending, []string{"broken"}) ||
		!slices.Equal(r.Unknown, []string{"gone"}) {
		t.Fatalf("%+v", r)
	}
	// The plan still has one users, the registry two: the second is a
	// rework this code does not know.
	r = compareRows(disk[:2], sqitchRows(disk[:2], append(deployed[:2:2], sqitchRecord{Project: "flipr", Change: "users", ChangeID: "0123456789abcdef"}), nil))
	if !slices.Equal(r.Unknown, []string{"users (change 0123456789ab)"}) {
		t.Fatalf("%+v", r)
	}
}

func TestSqitch_DetectsChangesOnlyInARegistry(t *testing.T) {
	changes := Table{Schema: "sqitch", Name: "changes", Columns: map[string]string{
		"change_id": "text", "script_hash": "text", "change": "text", "project": "text"}}
	registry := &Catalog{tables: []Table{changes, {Schema: "sqitch", Name: "events"}, {Schema: "sqitch", Name: "projects"}}}
	appOnly := &Catalog{tables: []Table{changes, {Schema: "public", Name: "events"}, {Schema: "public", Name: "projects"}}}
	if !(sqitch{}).Detect(registry, changes) || (sqitch{}).Detect(appOnly, changes) {
		t.Fatal("changes is sqitch's only beside events and projects in the same schema")
	}
	appChanges := Table{Schema: "sqitch", Name: "changes", Columns: map[string]string{"id": "bigint", "change": "text"}}
	if (sqitch{}).Detect(registry, appChanges) {
		t.Fatal("a changes table without sqitch's columns is not sqitch's")
	}
}
