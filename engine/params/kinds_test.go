package params_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/params"
)

func TestSizesAreReadExactlyOrRefused(t *testing.T) {
	good := map[string]params.Size{
		"0": 0, "1048576": 1 << 20, "16MiB": 16 << 20, "16mib": 16 << 20, "1.5GiB": 3 << 29, "500k": 500_000,
		"500K": 500_000, "64 MB": 64_000_000, "1Ki": 1024, "2T": 2e12, "10B": 10,
	}
	for in, want := range good {
		if got, err := params.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"16 parsecs":   `bad size "16 parsecs": unknown unit "parsecs"; use a whole number of bytes, or a number and a unit`,
		"1.5B":         `it is not a whole number of bytes`,
		"-1MiB":        `bad size "-1MiB"`,
		"":             `bad size ""`,
		"MiB":          `bad size "MiB"`,
		"1e6":          `bad size "1e6"`,
		"16 MiB extra": `bad size "16 MiB extra"`,
		"9999999TiB":   `too large`,
		" 5MiB ":       `bad size " 5MiB "`, // hostile review of issue 12: padding is refused, not trimmed
		"16 MiB\n":     `bad size`,
	}
	for in, want := range bad {
		if _, err := params.ParseSize(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSize(%q): got %v, want …%s…", in, err, want)
		}
	}
}

func TestASizeWritesBackAsItReads(t *testing.T) {
	for _, s := range []params.Size{0, 1, 1000, 1 << 10, 16 << 20, 3 << 29, 5<<40 + 1} {
		if back, err := params.ParseSize(s.String()); err != nil || back != s {
			t.Errorf("%d → %q → %d, %v", int64(s), s.String(), back, err)
		}
	}
}

type kinds struct {
	Part  params.Size    `yaml:"part" json:"part" default:"16MiB"`
	Dest  params.Path    `yaml:"dest" json:"dest"`
	Src   params.Strings `yaml:"src" json:"src"`
	Files params.Paths   `yaml:"files" json:"files"`
	Cond  any            `yaml:"cond" json:"cond" oneof:"string,boolean"`
	Floor params.Size    `yaml:"floor" json:"floor" min:"1024"`
}

func kindsSpec(t *testing.T) *params.Type {
	t.Helper()
	s, err := params.Of(kinds{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewKindsDecodeFromEvaluatedValues(t *testing.T) {
	dir := t.TempDir()
	var got kinds
	err := kindsSpec(t).Decode(map[string]any{
		"dest": "out/a.zip", "src": "episodes", "files": []any{"/abs/x", "rel/y"}, "cond": true,
	}, &got, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := kinds{Part: 16 << 20, Dest: params.Path(filepath.Join(dir, "out/a.zip")), Src: params.Strings{"episodes"},
		Files: params.Paths{"/abs/x", params.Path(filepath.Join(dir, "rel/y"))}, Cond: true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestNewKindsDecodeFromYAML(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("part: 1.5GiB\ndest: /tmp/x\nsrc: [a, b]\ncond: \"x > 1\"\n"), &n); err != nil {
		t.Fatal(err)
	}
	var got kinds
	if errs := kindsSpec(t).DecodeNode(n.Content[0], &got, "/base"); len(errs) > 0 {
		t.Fatal(errs)
	}
	if got.Part != 3<<29 || got.Dest != "/tmp/x" || !reflect.DeepEqual(got.Src, params.Strings{"a", "b"}) || got.Cond != "x > 1" {
		t.Fatalf("got %+v", got)
	}
}

// TestCheckPointsAtTheValueAtFault: a bad size was reported at the with:
// line, its position found by parsing the error's text.
func TestCheckPointsAtTheValueAtFault(t *testing.T) {
	src := "part: 16 parsecs\nsrc: {a: 1}\ncond: [1]\nfloor: 10\nfiles:\n  - ok\n  - [no]\n"
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	errs := kindsSpec(t).Check(n.Content[0])
	want := []string{
		`1:7 part: bad size "16 parsecs"`,
		`2:6 src: expected a string or a list of them, got a map`,
		`3:7 cond: expected a string or true or false, got a list`,
		`4:8 floor: "10" is too small: use at least 1KiB`,
		`7:5 files[1]: expected a path, got a list`,
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, e := range errs {
		n := params.Locate(n.Content[0], e)
		got := strings.Join([]string{itoa(n.Line) + ":" + itoa(n.Column), e.Error()}, " ")
		if !strings.HasPrefix(got, want[i]) {
			t.Errorf("error %d: got %s, want %s…", i, got, want[i])
		}
	}
}

func TestExpressionsAreLeftForRunTime(t *testing.T) {
	var n yaml.Node
	yaml.Unmarshal([]byte("part: ${{ vars.size }}\nfloor: \"${{ vars.f }}\"\nsrc: ${{ glob('*.md') }}\n"), &n)
	if errs := kindsSpec(t).Check(n.Content[0]); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func TestDecodeErrorsAreLocatedByTheirPath(t *testing.T) {
	var doc yaml.Node
	yaml.Unmarshal([]byte("with:\n  part: soon\n  files: [a, 3.5]\n"), &doc)
	err := params.Under("with", kindsSpec(t).Decode(map[string]any{"part": "soon", "files": []any{"a", []any{}}}, &kinds{}, ""))
	var list params.Errors
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("err = %v", err)
	}
	for i, want := range []string{"2:9", "3:14"} {
		n := params.Locate(doc.Content[0], list[i])
		if got := itoa(n.Line) + ":" + itoa(n.Column); got != want {
			t.Errorf("%v at %s, want %s", list[i], got, want)
		}
	}
}

type grammar struct {
	Version int               `yaml:"version" json:"version" required:"true" enum:"1" hint:"add it"`
	Tries   int               `yaml:"tries" json:"tries" min:"1" default:"1" shape:"a whole number of tries, at least 1"`
	Items   map[string]string `yaml:"items" json:"items" keys:"^[a-z]+$" keyname:"item name" keyrule:"use a to z (not {})" min:"1" hint:"add one"`
	Nested  struct {
		On []string `yaml:"on" json:"on" enum:"a,b"`
	} `yaml:"nested" json:"nested"`
}

func TestLiteralGrammarsSayKeysAndMust(t *testing.T) {
	g, err := params.Of(grammar{}, nil, params.Literal())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"tries: 1\nitems: {a: x}\n":                    `missing required key "version": add it`,
		"version: 2\nitems: {a: x}\n":                  `version: "2" is not one of 1`,
		"version: \"1\"\nitems: {a: x}\n":              ``,
		"version: 1\ntries: 0\nitems: {a: x}\n":        `tries must be a whole number of tries, at least 1, got the integer 0`,
		"version: 1\ntries: ${{ x }}\nitems: {a: x}\n": `tries must be a whole number of tries, at least 1, got the string "${{ x }}"`,
		"version: 1\nitems: {}\n":                      `items is empty: add one`,
		"version: 1\nitems: {A1: x}\n":                 `item name "A1": use a to z (not A1)`,
		"version: 1\nitems: {a: x, a: y}\n":            `item name "a" is already used at line 2`,
		"version: 1\nitems: {a: x}\nnested: {on: [c]}": `nested.on[0]: "c" is not one of a, b`,
		"version: 1\nitems: {a: x}\nnestd: {}":         `unknown key "nestd" (did you mean "nested"?); allowed keys: version, tries, items, nested`,
	}
	for src, want := range cases {
		var n yaml.Node
		yaml.Unmarshal([]byte(src), &n)
		var got grammar
		errs := g.DecodeNode(n.Content[0], &got, "")
		if want == "" {
			if len(errs) > 0 || got.Version != 1 || got.Tries != 1 {
				t.Errorf("%q: %v, %+v", src, errs, got)
			}
			continue
		}
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
			t.Errorf("%q: got %v, want …%s…", src, errs, want)
		}
	}
}

func TestSchemasOfTheNewKinds(t *testing.T) {
	props := kindsSpec(t).JSONSchema()["properties"].(map[string]any)
	part := props["part"].(map[string]any)
	if part["default"] != "16MiB" || len(part["anyOf"].([]any)) != 3 {
		t.Errorf("part: %v", part)
	}
	src := props["src"].(map[string]any)["anyOf"].([]any)
	if src[0].(map[string]any)["type"] != "string" || src[1].(map[string]any)["type"] != "array" {
		t.Errorf("src: %v", src)
	}
	cond := props["cond"].(map[string]any)["anyOf"].([]any)
	if len(cond) != 3 || cond[1].(map[string]any)["type"] != "boolean" || cond[2].(map[string]any)["pattern"] == nil {
		t.Errorf("cond: %v", cond)
	}
	g, _ := params.Of(grammar{}, nil, params.Literal())
	gp := g.JSONSchema()["properties"].(map[string]any)
	if gp["version"].(map[string]any)["const"] != int64(1) || gp["tries"].(map[string]any)["minimum"] != 1.0 ||
		gp["items"].(map[string]any)["propertyNames"] == nil || gp["items"].(map[string]any)["minProperties"] != 1 {
		t.Errorf("grammar: %v", gp)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
