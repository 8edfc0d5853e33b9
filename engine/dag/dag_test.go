package dag_test

import (
	"reflect"
	"testing"

	"github.com/novelfactory/runner/engine/dag"
)

func TestOrderBreaksTiesByFileOrder(t *testing.T) {
	g, err := dag.New([]string{"report", "zip", "dump", "upload"}, map[string][]string{
		"upload": {"dump", "zip"}, "report": {"upload"},
	})
	if err != nil {
		t.Fatal(err)
	}
	order, err := g.Order()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"zip", "dump", "upload", "report"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if a := g.Ancestors(0); len(a) != 3 {
		t.Errorf("report has %d ancestors, want 3", len(a))
	}
}

func TestCyclesAreNamed(t *testing.T) {
	g, _ := dag.New([]string{"a", "b", "c", "d"}, map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}})
	got := g.Cycles()
	want := [][]string{{"a", "b", "c", "a"}, {"d", "d"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cycles %v, want %v", got, want)
	}
	if _, err := g.Order(); err == nil {
		t.Fatal("Order of a cyclic graph must fail")
	}
}

func TestUnknownNeedIsAnError(t *testing.T) {
	if _, err := dag.New([]string{"a"}, map[string][]string{"a": {"b"}}); err == nil {
		t.Fatal("want an error")
	}
}
