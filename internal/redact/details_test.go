package redact

import (
	"reflect"
	"testing"
)

type lock struct {
	Holder   string            `json:"holder"`
	Secret   string            `json:"db_password"`
	Password string            `json:"-"`
	Tags     map[string]string `json:"tags"`
	hidden   string
}

type report struct {
	Database string   `json:"database"`
	Pending  []string `json:"pending"`
	Lock     *lock    `json:"lock"`
	Count    int      `json:"count"`
	Any      any      `json:"any"`
}

func TestDetails_RedactsStringsAndPasswordFieldsWithoutTouchingTheOriginal(t *testing.T) {
	in := &report{
		Database: "app",
		Pending:  []string{"0001_init", "0002 postgres://app:app@db/app"},
		Lock: &lock{Holder: "host=db password=app", Secret: "s", Password: "p",
			Tags: map[string]string{"password": "t", "user": "app"}, hidden: "password=h"},
		Count: 3,
		Any:   []any{"password=a", 7},
	}
	got := New("app").Details(in).(*report)
	want := &report{
		Database: "app",
		Pending:  []string{"0001_init", "0002 postgres://app:xxxxx@db/app"},
		Lock: &lock{Holder: "host=db password=xxxxx", Secret: Mask, Password: Mask,
			Tags: map[string]string{"password": Mask, "user": "app"}, hidden: "password=h"},
		Count: 3,
		Any:   []any{"password=xxxxx", 7},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Details = %+v %+v, want %+v %+v", got, got.Lock, want, want.Lock)
	}
	if in.Lock.Holder != "host=db password=app" || in.Pending[1] != "0002 postgres://app:app@db/app" {
		t.Fatalf("the original changed: %+v", in)
	}
}

func TestDetails_ReturnsWhatHoldsNoSecretAsItIs(t *testing.T) {
	in := &report{Database: "app", Pending: []string{"0001_init"}, Lock: &lock{Holder: "pid 42"}}
	if got := New("app").Details(in); got != any(in) {
		t.Fatalf("Details copied a value without secrets")
	}
	if got := New("app").Details(nil); got != nil {
		t.Fatalf("Details(nil) = %v", got)
	}
}
