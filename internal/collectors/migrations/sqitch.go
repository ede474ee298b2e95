package migrations

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// sqitch is Sqitch (sqitch.org): a project directory with sqitch.plan
// (pragmas such as %project=, then changes and @tags in deploy order) and
// one deploy/<change>.sql script per change. Its registry is the schema
// "sqitch" (--registry renames it): changes(change_id, script_hash, change,
// project, committed_at, ...) gets one row per deployed change, with
// script_hash the SHA-1 of the deploy script's bytes; events(event, change,
// project, committed_at, ...) logs every deploy, revert and fail. A failed
// deploy adds a 'fail' event and no changes row (and, by default, reverts
// the changes deployed earlier in the same run); whatever the script did
// before it failed outside a transaction stays. A change whose latest event
// is 'fail' is reported dirty until a deploy of it succeeds.
//
// A change reworked (`sqitch rework`) appears twice in the plan under one
// name; the older instance's scripts are deploy/<change>@<tag>.sql, and the
// registry has a row per deployed instance. Instances are matched to rows
// in deploy order.
//
// --migrations.dir is the project's top directory: the one holding
// sqitch.plan and deploy/ (sqitch.conf's top_dir; plan_file and deploy_dir
// settings are not read). Version is "<project>:<change>" (Sqitch's own
// notation), "<project>:<change>@<tag>" for an older instance of a
// reworked change; Name drops the project. Only rows of the plan's project
// are read; without a directory, every project's.
type sqitch struct{}

func (sqitch) Name() string          { return "sqitch" }
func (sqitch) Tables() []string      { return []string{"changes", "events", "projects"} }
func (sqitch) DefaultSchema() string { return "sqitch" }

// Detect takes a "changes" table only beside the registry's events and
// projects tables, "changes" being a common name.
func (sqitch) Detect(cat *Catalog, t Table) bool {
	return t.Columns["change_id"] != "" && t.Columns["script_hash"] != "" && t.Columns["project"] != "" &&
		cat.Has("events", t.Schema) && cat.Has("projects", t.Schema)
}

// sqitchPlanEntry is one change or tag line of sqitch.plan.
type sqitchPlanEntry struct {
	name  string
	isTag bool
}

// ParseFiles reads sqitch.plan and hashes each change's deploy script.
func (sqitch) ParseFiles(fsys fs.FS) ([]Migration, error) {
	plan, err := fs.ReadFile(fsys, "sqitch.plan")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &InvalidFileError{"sqitch.plan", "not found: --migrations.dir must be the sqitch project directory"}
	}
	if err != nil {
		return nil, err
	}
	project, entries, err := parseSqitchPlan(plan)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for i, e := range entries {
		if e.isTag {
			continue
		}
		label, scripts := e.name, []string{e.name + ".sql"}
		if next := sqitchNextInstance(entries, i); next > 0 {
			tags := sqitchReworkTags(entries, i, next)
			label = e.name + "@" + sqitchFirstTagAfter(entries, i)
			scripts = scripts[:0]
			for _, tag := range tags {
				scripts = append(scripts, e.name+"@"+tag+".sql")
			}
		}
		m := Migration{Version: project + ":" + label, Name: label}
		for _, script := range scripts { // the first that exists, as Sqitch picks it
			content, err := fs.ReadFile(fsys, path.Join("deploy", script))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return nil, err
			}
			sum := sha1.Sum(content)
			m.Checksum = hex.EncodeToString(sum[:])
			break
		}
		out = append(out, m)
	}
	return out, nil
}

var (
	sqitchPragma = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[ \t]*%[ \t]*([^ \t=]+)[ \t]*(?:=[ \t]*(.*))?$`) })
	sqitchLine   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[ \t]*(@|[ \t]*[+-]?[ \t]*)([^ \t:@#\\\[]+)`) })
)

// parseSqitchPlan reads the pragmas (up to the first blank line) and the
// change and tag lines of a plan, with notes and the rest of each line
// (dependencies, timestamp, planner) dropped.
func parseSqitchPlan(plan []byte) (project string, entries []sqitchPlanEntry, err error) {
	lines := strings.Split(strings.ReplaceAll(string(plan), "\r\n", "\n"), "\n")
	invalid := func(n int, msg string) error {
		return &InvalidFileError{"sqitch.plan", "line " + strconv.Itoa(n+1) + ": " + msg}
	}
	header := true
	sinceTag := map[string]bool{}
	for n, line := range lines {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimRight(line, " \t")
		if strings.TrimSpace(line) == "" {
			if header && strings.TrimSpace(lines[n]) == "" {
				header = false
			}
			continue
		}
		if header {
			m := sqitchPragma().FindStringSubmatch(line)
			if m == nil {
				return "", nil, invalid(n, "a blank line must separate the pragmas from the changes")
			}
			if m[1] == "project" {
				project = strings.TrimSpace(m[2])
			}
			continue
		}
		m := sqitchLine().FindStringSubmatch(line)
		if m == nil {
			return "", nil, invalid(n, "not a change or tag: "+strings.TrimSpace(line))
		}
		if m[1] == "@" {
			if len(entries) == 0 {
				return "", nil, invalid(n, "tag @"+m[2]+" before any change")
			}
			entries = append(entries, sqitchPlanEntry{name: m[2], isTag: true})
			clear(sinceTag)
			continue
		}
		if sinceTag[m[2]] {
			return "", nil, invalid(n, "change "+m[2]+" planned twice with no tag between")
		}
		sinceTag[m[2]] = true
		entries = append(entries, sqitchPlanEntry{name: m[2]})
	}
	if project == "" {
		return "", nil, &InvalidFileError{"sqitch.plan", "no %project pragma"}
	}
	return project, entries, nil
}

// sqitchNextInstance returns the index of the next change of the same name
// after entries[i] (a rework), or -1.
func sqitchNextInstance(entries []sqitchPlanEntry, i int) int {
	for j := i + 1; j < len(entries); j++ {
		if !entries[j].isTag && entries[j].name == entries[i].name {
			return j
		}
	}
	return -1
}

// sqitchReworkTags lists the tags between a change at i and its rework at
// next in the order Sqitch tries them for the reworked script's file name
// (App::Sqitch::Plan->_parse): the tags of each change before the rework,
// latest change first, ending with the change's own tags.
func sqitchReworkTags(entries []sqitchPlanEntry, i, next int) []string {
	var groups [][]string // tags per change, in plan order
	for j := i; j < next; j++ {
		if entries[j].isTag {
			groups[len(groups)-1] = append(groups[len(groups)-1], entries[j].name)
		} else {
			groups = append(groups, nil)
		}
	}
	var tags []string
	for g := len(groups) - 1; g >= 0; g-- {
		tags = append(tags, groups[g]...)
	}
	return tags
}

// sqitchFirstTagAfter is the first tag after entries[i]: "change@tag" then
// names that instance in Sqitch's own terms. A rework always has one.
func sqitchFirstTagAfter(entries []sqitchPlanEntry, i int) string {
	for j := i + 1; j < len(entries); j++ {
		if entries[j].isTag {
			return entries[j].name
		}
	}
	return ""
}

// Status reads the deployed changes in deploy order and the changes whose
// latest event is a failure.
func (sqitch) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	project := ""
	if len(disk) > 0 {
		project, _, _ = strings.Cut(disk[0].Version, ":")
	}
	deployed, err := sqitchQuery(ctx, db, `SELECT project, change, change_id, COALESCE(script_hash, '')
		FROM `+loc.Main()+` WHERE $1 IN ('', project) ORDER BY committed_at, change_id`, project)
	if err != nil {
		return Report{}, err
	}
	failed, err := sqitchQuery(ctx, db, `SELECT project, change, change_id, '' FROM (
			SELECT DISTINCT ON (project, change) project, change, change_id, event, committed_at
			FROM `+loc.Qualified("events")+`
			WHERE event IN ('deploy', 'revert', 'fail') AND $1 IN ('', project)
			ORDER BY project, change, committed_at DESC) latest
		WHERE event = 'fail' ORDER BY committed_at`, project)
	if err != nil {
		return Report{}, err
	}
	return compareRows(disk, sqitchRows(disk, deployed, failed)), nil
}

// sqitchRecord is a row of changes (or a failed change from events), its
// fields in the order Status selects the columns (pgx.RowToStructByPos).
type sqitchRecord struct{ Project, Change, ChangeID, ScriptHash string }

func sqitchQuery(ctx context.Context, db Querier, sql, project string) ([]sqitchRecord, error) {
	rows, err := db.Query(ctx, sql, project)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[sqitchRecord])
}

// sqitchRows gives each deployed change the version of its plan instance:
// the k-th deployed row of a change name is the k-th instance of that name
// in the plan (Sqitch deploys in plan order and reverts in reverse). A
// failed change is the instance after the deployed ones.
func sqitchRows(disk []Migration, deployed, failed []sqitchRecord) []Row {
	instances := map[string][]Migration{} // "project:change" -> plan instances
	for _, m := range disk {
		key, _, _ := strings.Cut(m.Version, "@")
		instances[key] = append(instances[key], m)
	}
	seen := map[string]int{}
	row := func(r sqitchRecord) Row {
		key := r.Project + ":" + r.Change
		k := seen[key]
		if plan := instances[key]; k < len(plan) {
			return Row{Version: plan[k].Version, Name: plan[k].Name, Checksum: r.ScriptHash}
		}
		if k == 0 || disk == nil {
			return Row{Version: key, Name: r.Change, Checksum: r.ScriptHash}
		}
		// Deployed more often than the plan has it: a rework this plan
		// does not have yet.
		id := r.ChangeID
		if len(id) > 12 {
			id = id[:12]
		}
		return Row{Version: key + "@" + id, Name: r.Change + " (change " + id + ")", Checksum: r.ScriptHash}
	}
	var out []Row
	for _, r := range deployed {
		out = append(out, row(r))
		seen[r.Project+":"+r.Change]++
	}
	for _, r := range failed {
		f := row(r)
		f.Failed = true
		out = append(out, f)
	}
	return out
}
