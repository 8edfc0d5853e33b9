package main

import (
	"reflect"
	"testing"
)

func TestNormalizeArgsMovesFlagsBeforeTheRecipe(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"runner", "apply", "r.yaml", "--set", "a=1,2", "-j", "3"},
			[]string{"runner", "apply", "--set", "a=1,2", "-j", "3", "--", "r.yaml"}},
		{[]string{"runner", "apply", "--resume", "r.yaml"},
			[]string{"runner", "apply", "--resume=latest", "--", "r.yaml"}},
		{[]string{"runner", "apply", "r.yaml", "--resume", "20261125T195851Z-3fa2c1", "--dry-run"},
			[]string{"runner", "apply", "--resume=20261125T195851Z-3fa2c1", "--dry-run", "--", "r.yaml"}},
		{[]string{"runner", "apply", "r.yaml", "--resume"},
			[]string{"runner", "apply", "--resume=latest", "--", "r.yaml"}},
		{[]string{"runner", "--version"}, []string{"runner", "--version"}},
		{[]string{"runner", "validate", "a.yaml", "b.yaml"}, []string{"runner", "validate", "--", "a.yaml", "b.yaml"}},
	}
	for _, c := range cases {
		if got := normalizeArgs(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("normalizeArgs(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
