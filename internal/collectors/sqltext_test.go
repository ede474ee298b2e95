package collectors

import (
	"strings"
	"testing"
)

func TestCheckQuery_OneReadingStatementOnly(t *testing.T) {
	ok := []string{
		"select count(*) < 100 from jobs where state = 'queued'",
		"SELECT 1;",
		"  -- a comment; with a semicolon\n select 1 ;  ",
		"with q as (select * from jobs) select count(*) from q",
		"select ';' as semi, $$ ; drop table x; $$ as body, \"we;ird\" from t",
		"select $tag$ it's ; $$ here $tag$",
		"select /* ; /* nested ; */ still comment */ 1",
		"values (1)",
		"table jobs",
		"select e'it\\'s; fine'",
		"select 'it''s; fine'",
		"select updated_at, deleted from jobs where created > now() - interval '1 hour'",
		"select $1::int", // a parameter, not a dollar quote
	}
	for _, sql := range ok {
		if err := CheckQuery(sql); err != nil {
			t.Errorf("CheckQuery(%q): %v", sql, err)
		}
	}
	bad := map[string]string{
		"":                            "no SQL statement",
		" ; -- nothing\n":             "no SQL statement",
		"select 1; select 2":          "2 statements",
		"select 1; drop table jobs":   "2 statements",
		"delete from jobs":            "starts with DELETE",
		"update jobs set state = 'x'": "starts with UPDATE",
		"with d as (delete from jobs returning *) select count(*) from d": "contains DELETE",
		"select * into copy_of_jobs from jobs":                            "contains INTO",
		"select * from jobs for update":                                   "contains UPDATE",
		"vacuum jobs":                                                     "starts with VACUUM",
		"select 'unterminated":                                            "single quote is not closed",
		"select $x$ never closed":                                         "dollar quote $x$ is not closed",
		"select /* open":                                                  "comment is not closed",
	}
	for sql, want := range bad {
		if err := CheckQuery(sql); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckQuery(%q) = %v, want an error saying %q", sql, err, want)
		}
	}
}

// FuzzCheckQuery: CheckQuery never panics, and whatever it accepts, joined
// to itself by a semicolon on a line of its own (a line comment ends
// before it), is refused as two statements.
func FuzzCheckQuery(f *testing.F) {
	for _, s := range []string{"select 1", "select ';'", "select $$;$$", "select /* ; */ 1", "select e'\\';'", "with a as (select 1) select * from a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if CheckQuery(sql) != nil {
			return
		}
		if err := CheckQuery(sql + "\n;\n" + sql); err == nil {
			t.Fatalf("%q twice was accepted as one statement", sql)
		}
	})
}
