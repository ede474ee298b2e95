package monitoring

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// The dashboards of dashboards/ and their uids.
var dashboards = []struct{ file, uid string }{
	{"dashboards/dbhealth-overview.json", "dbhealth-overview"},
	{"dashboards/dbhealth-fleet.json", "dbhealth-fleet"},
}

func TestDashboard_PanelsAreDescribedAndUseTheVariables(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(root, "dashboards"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.ContainsFunc(dashboards, func(d struct{ file, uid string }) bool { return d.file == "dashboards/"+e.Name() }) {
			t.Errorf("dashboards/%s is not checked: add it to dashboards in dashboard_test.go", e.Name())
		}
	}
	for _, d := range dashboards {
		t.Run(d.uid, func(t *testing.T) { checkDashboard(t, d.file, d.uid) })
	}
}

func checkDashboard(t *testing.T, file, uid string) {
	var dash struct {
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Type        string `json:"type"`
			Title       string `json:"title"`
			Description string `json:"description"`
			FieldConfig struct {
				Defaults struct {
					Unit string `json:"unit"`
				} `json:"defaults"`
			} `json:"fieldConfig"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(read(t, file), &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID != uid || dash.SchemaVersion < 39 {
		t.Errorf("uid %q schemaVersion %d", dash.UID, dash.SchemaVersion)
	}
	var vars []string
	for _, v := range dash.Templating.List {
		vars = append(vars, v.Name)
	}
	for _, want := range []string{"datasource", "job", "instance", "target"} {
		if !slices.Contains(vars, want) {
			t.Errorf("no %s variable", want)
		}
	}
	rate := regexp.MustCompile(`(rate|increase)\([^\[]*\[([^\]]*)\]`)
	var queries int
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || p.Description == "" || p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("panel %q: title, description and unit are required", p.Title)
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %q, want ${datasource}", p.Title, p.Datasource.UID)
		}
		for _, target := range p.Targets {
			queries++
			for _, m := range rate.FindAllStringSubmatch(target.Expr, -1) {
				if m[2] != "$__rate_interval" {
					t.Errorf("panel %q: %s over [%s], want [$__rate_interval]", p.Title, m[1], m[2])
				}
			}
			if !regexp.MustCompile(`job=~"\$job",instance=~"\$instance"`).MatchString(target.Expr) {
				t.Errorf("panel %q: %s does not select $job and $instance", p.Title, target.Expr)
			}
		}
	}
	if queries < 10 {
		t.Errorf("%d queries", queries)
	}
}
