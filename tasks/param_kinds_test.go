package tasks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/csvsum"
	"github.com/novelfactory/runner/tasks/unzip"
)

// TestSizeParamsAreCheckedAtTheirOwnLine: `runner validate` accepted
// part_size: "16 parsecs" (read as 16 bytes), and a bad part_size was
// reported at the with: line, its position guessed from the error's text.
// The types' own checks point at their params by path too.
func TestSizeParamsAreCheckedAtTheirOwnLine(t *testing.T) {
	cases := map[string]string{
		"    uses: s3put\n    with:\n      src: out\n      to: s3://b/p/\n      part_size: 16 parsecs\n":  `r.yaml:8:18: task "t": with.part_size: bad size "16 parsecs": unknown unit "parsecs"`,
		"    uses: unzip\n    with:\n      src: a.zip\n      dest: out\n      max_bytes: 1.5B\n":          `r.yaml:8:18: task "t": with.max_bytes: bad size "1.5B": it is not a whole number of bytes`,
		"    uses: unzip\n    with:\n      src: a.zip\n      dest: out\n      max_bytes: 0\n":             `r.yaml:8:18: task "t": with.max_bytes: "0" is too small: use at least 1`,
		"    uses: s3get\n    with:\n      from: s3://b/p/\n      dest: out\n      concurrency: 0\n":      `r.yaml:8:20: task "t": with: concurrency 0: move at least one part at a time`,
		"    uses: s3put\n    with:\n      src: out\n      to: ftp://b/\n":                                `r.yaml:7:11: task "t": with.to: `,
		"    uses: zip\n    with:\n      src: a\n      dest: b.zip\n      level: 12\n":                    `r.yaml:8:14: task "t": with: level 12: use 0 (store) to 9`,
		"    uses: csvsum\n    with:\n      src: a.csv\n      dest: o.csv\n      aggregate: {x: summ}\n":  `r.yaml:8:18: task "t": with: aggregate x: unknown function "summ"`,
		"    uses: prune\n    with:\n      target: file://x/\n      keep_last: -3\n      keep_daily: 7\n": `r.yaml:7:18: task "t": with.keep_last: expected a number of sets to keep, 0 or more, got the integer -3`,
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	for body, want := range cases {
		if err := os.WriteFile(path, []byte("version: 1\ntasks:\n  t:\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := recipe.Load(path, recipe.Options{})
		if err == nil || !strings.Contains(err.Error(), strings.Replace(want, "r.yaml", path, 1)) {
			t.Errorf("got %v\nwant …%s…", err, want)
		}
	}
}

// TestSizesPathsAndListsAreDecodedOnce: max_bytes: 1.5GiB was read as
// 1 GiB; paths are resolved against the task's folder when decoded, and a
// src of one string is a list of one.
func TestSizesPathsAndListsAreDecodedOnce(t *testing.T) {
	dir := t.TempDir()
	typ, _ := tasktype.Builtin().Lookup("unzip")
	p, err := typ.Decode(map[string]any{"src": "backup/a.zip", "dest": "/abs/out", "max_bytes": "1.5GiB"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	u := p.(*unzip.Params)
	if u.MaxBytes != 3<<29 || u.Src != params.Path(filepath.Join(dir, "backup/a.zip")) || u.Dest != "/abs/out" {
		t.Errorf("decoded %+v", u)
	}
	typ, _ = tasktype.Builtin().Lookup("csvsum")
	p, err = typ.Decode(map[string]any{"src": "sales/*.csv", "aggregate": map[string]any{"금액": "sum", "수량": []any{"sum", "avg"}}, "dest": "out.csv"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	c := p.(*csvsum.Params)
	if len(c.Src) != 1 || c.Src[0] != "sales/*.csv" || len(c.Aggregate["수량"]) != 2 || len(c.Aggregate["금액"]) != 1 {
		t.Errorf("decoded %+v", c)
	}
}

// TestSrcParamsHaveASchema: `src: any` params were {} in the JSON Schema,
// so that editors could not help.
func TestSrcParamsHaveASchema(t *testing.T) {
	for _, name := range []string{"csvsum", "tokencost"} {
		typ, _ := tasktype.Builtin().Lookup(name)
		src := typ.Params.JSONSchema()["properties"].(map[string]any)["src"].(map[string]any)
		if alts, _ := src["anyOf"].([]any); len(alts) < 2 {
			t.Errorf("%s: src schema %v", name, src)
		}
	}
}
