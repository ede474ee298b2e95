package migrations

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestAlembic_ParseRevision_ReadsEveryAssignmentStyle(t *testing.T) {
	cases := []struct {
		name, src string
		rev       string
		down      []string
	}{
		{"first revision", "revision = 'a1'\ndown_revision = None\n", "a1", nil},
		{"double quotes", "revision = \"b2\"\ndown_revision = \"a1\"\n", "b2", []string{"a1"}},
		{"annotated (Alembic 1.13 template)", "revision: str = 'b2'\ndown_revision: Union[str, None] = 'a1'\nbranch_labels: Union[str, Sequence[str], None] = None\n", "b2", []string{"a1"}},
		{"merge tuple", "revision = 'm1'\ndown_revision = ('a1', \"b2\")\n", "m1", []string{"a1", "b2"}},
		{"merge tuple over lines", "revision = 'm1'\ndown_revision = (\n    'a1',\n    'b2',\n)\n", "m1", []string{"a1", "b2"}},
		{"docstring does not count", "\"\"\"add x\n\nRevision ID: zz\nRevises: yy\n\"\"\"\nrevision = 'c3'\ndown_revision = 'b2'\n", "c3", []string{"b2"}},
	}
	for _, tc := range cases {
		rev, err := parseAlembicRevision("x.py", tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if rev.revision != tc.rev || !slices.Equal(rev.down, tc.down) {
			t.Errorf("%s: got %q %q, want %q %q", tc.name, rev.revision, rev.down, tc.rev, tc.down)
		}
	}
	var invalid *InvalidFileError
	if _, err := parseAlembicRevision("helper.py", "x = 1\n"); !errors.As(err, &invalid) {
		t.Errorf("a .py file without revision must be invalid (Alembic refuses it): %v", err)
	}
}

func TestAlembic_ParseFiles_OrdersParentsFirstAndSkipsNonRevisions(t *testing.T) {
	fsys := fstest.MapFS{
		"ccc_merge.py":      {Data: []byte("revision = 'ccc'\ndown_revision = ('bbb', 'aab')\n")},
		"aab_branch.py":     {Data: []byte("revision = 'aab'\ndown_revision = 'zzz'\n")},
		"bbb_second.py":     {Data: []byte("revision = 'bbb'\ndown_revision = 'zzz'\n")},
		"zzz_first.py":      {Data: []byte("revision = 'zzz'\ndown_revision = None\n")},
		"__init__.py":       {},
		".#zzz_first.py":    {},
		"README":            {Data: []byte("Generic single-database configuration.")},
		"__pycache__/x.pyc": {},
	}
	got, err := alembic{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Version)
	}
	if want := []string{"zzz", "aab", "bbb", "ccc"}; !slices.Equal(names, want) {
		t.Fatalf("order %v, want %v", names, want)
	}
	if got[3].Name != "ccc_merge" || !slices.Equal(got[3].Parents, []string{"bbb", "aab"}) {
		t.Fatalf("merge revision: %+v", got[3])
	}
}

func TestAlembic_ParseFiles_RejectsWhatAlembicRejects(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"missing down revision": {"b.py": {Data: []byte("revision = 'b'\ndown_revision = 'a'\n")}},
		"cycle": {
			"a.py": {Data: []byte("revision = 'a'\ndown_revision = 'b'\n")},
			"b.py": {Data: []byte("revision = 'b'\ndown_revision = 'a'\n")},
		},
		"duplicate revision": {
			"a.py":  {Data: []byte("revision = 'a'\ndown_revision = None\n")},
			"a2.py": {Data: []byte("revision = 'a'\ndown_revision = None\n")},
		},
	}
	for name, fsys := range cases {
		var invalid *InvalidFileError
		if _, err := (alembic{}).ParseFiles(fsys); !errors.As(err, &invalid) {
			t.Errorf("%s: got %v, want an InvalidFileError", name, err)
		}
	}
}

func TestAlembic_Compare_AppliedIsEveryAncestorOfARecordedHead(t *testing.T) {
	// a <- b <- c (merge of b and x), a <- x ; d follows c.
	disk := []Migration{
		{Version: "a", Name: "a_init"},
		{Version: "b", Name: "b_users", Parents: []string{"a"}},
		{Version: "x", Name: "x_branch", Parents: []string{"a"}},
		{Version: "c", Name: "c_merge", Parents: []string{"b", "x"}},
		{Version: "d", Name: "d_index", Parents: []string{"c"}},
	}
	cases := []struct {
		name             string
		heads            []string
		applied          int
		pending, unknown []string
	}{
		{"nothing applied", nil, 0, []string{"a_init", "b_users", "x_branch", "c_merge", "d_index"}, nil},
		{"two heads", []string{"b", "x"}, 3, []string{"c_merge", "d_index"}, nil},
		{"one branch only", []string{"b"}, 2, []string{"x_branch", "c_merge", "d_index"}, nil},
		{"merged", []string{"c"}, 4, []string{"d_index"}, nil},
		{"all", []string{"d"}, 5, nil, nil},
		{"ahead of disk: nothing pending", []string{"e"}, 6, nil, []string{"e"}},
	}
	for _, tc := range cases {
		r := alembicCompare(disk, tc.heads)
		if r.AppliedCount != tc.applied || !slices.Equal(r.Pending, tc.pending) || !slices.Equal(r.Unknown, tc.unknown) {
			t.Errorf("%s: %+v", tc.name, r)
		}
		if r.LatestOnDisk != "d" || r.LatestApplied != strings.Join(tc.heads, ",") {
			t.Errorf("%s: latest %q / %q", tc.name, r.LatestApplied, r.LatestOnDisk)
		}
	}
	if r := alembicCompare(nil, []string{"b", "x"}); r.AppliedCount != 2 || r.Pending != nil || r.Unknown != nil {
		t.Errorf("without a directory: %+v", r)
	}
}

func TestAlembic_DetectsVersionNum(t *testing.T) {
	own := Table{Name: "alembic_version", Columns: map[string]string{"version_num": "character varying"}}
	other := Table{Name: "alembic_version", Columns: map[string]string{"version": "character varying"}}
	if !(alembic{}).Detect(&Catalog{}, own) || (alembic{}).Detect(&Catalog{}, other) {
		t.Fatal("alembic_version is recognised by its version_num column")
	}
}
