package export_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/export"
)

func TestBuildRefusesOptionsThatCannotBeValid(t *testing.T) {
	ok := export.Options{Recipe: "recipes/chain.yaml", State: "s3://bucket/runs"}
	for name, tc := range map[string]struct {
		change func(*export.Options)
		want   string
	}{
		"a line break in --state":            {func(o *export.Options) { o.State = "s3://b/p\ndefaults: x\n#" }, "--state holds a space, line break"},
		"a space in --state":                 {func(o *export.Options) { o.State = "s3://b/p q" }, "--state holds a space"},
		"--state that is no store":           {func(o *export.Options) { o.State = "http://x/y" }, `--state "http://x/y": a target is s3://bucket/prefix/`},
		"--state with no bucket":             {func(o *export.Options) { o.State = "s3://" }, "write s3://bucket/prefix/"},
		"a line break in the recipe's path":  {func(o *export.Options) { o.Recipe = "nl\ndefaults: x\n#.yaml" }, "the recipe's path"},
		"U+2028 in the recipe's path":        {func(o *export.Options) { o.Recipe = "a\u2028b.yaml" }, "U+2028"},
		"U+0085 in the recipe's path":        {func(o *export.Options) { o.Recipe = "a\u0085b.yaml" }, "U+0085"},
		"a carriage return in an include":    {func(o *export.Options) { o.IncludeDirs = []string{"lib\rx"} }, "--include-dir"},
		"--state-endpoint with no scheme":    {func(o *export.Options) { o.StateEndpoint = "minio:9000" }, "--state-endpoint is not a URL"},
		"--state-endpoint with a line break": {func(o *export.Options) { o.StateEndpoint = "http://h\nx: y" }, "--state-endpoint holds"},
		"--state-region with a space":        {func(o *export.Options) { o.StateRegion = "eu 1" }, "--state-region"},
		"--secret that is no name":           {func(o *export.Options) { o.Secrets = []string{"A;B"} }, "--secret"},
		"--image with GitHub's ${{":          {func(o *export.Options) { o.Image = "${{ github.token }}" }, "not a container image reference"},
		"--image with Argo's {{":             {func(o *export.Options) { o.Image = "img{{workflow.name}}" }, "not a container image reference"},
		"--image with a space":               {func(o *export.Options) { o.Image = "img 1" }, "not a container image reference"},
		"--image with a line break":          {func(o *export.Options) { o.Image = "img\nx" }, "not a container image reference"},
		"--image in capitals":                {func(o *export.Options) { o.Image = "Img" }, "not a container image reference"},
	} {
		t.Run(name, func(t *testing.T) {
			opt := ok
			tc.change(&opt)
			_, err := export.Build(load(t, chain), opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestImageReferencesAreAccepted(t *testing.T) {
	for _, img := range []string{"img", "runner:1.0.0", "ghcr.io/novelfactory/runner:1.0.0", "localhost:5000/a/b_c/d-e:v1.2_3",
		"registry.example.com/x@sha256:" + strings.Repeat("ab", 32), "docker.io/library/alpine:3.20@sha256:" + strings.Repeat("0", 64)} {
		if err := export.CheckImage(img); err != nil {
			t.Errorf("CheckImage(%q) = %v", img, err)
		}
	}
}

func TestEnvNamesThatLookSecretMustBePortable(t *testing.T) {
	opt := export.Options{Recipe: "r.yaml", State: "s3://b/p"}
	for _, name := range []string{`A_TOKEN||toJSON(secrets)`, `A_TOKEN\ndefaults: x`, `MY-TOKEN`, `1_TOKEN`} {
		src := "version: 1\nname: e\ntasks:\n  a:\n    uses: shell\n    with:\n      run: 'echo ${{ env_or(\"" + name + "\", \"\") }}'\n"
		_, err := export.Build(load(t, src), opt)
		if err == nil || !strings.Contains(err.Error(), "task a reads the environment variable") || !strings.Contains(err.Error(), "env_or(") {
			t.Errorf("env_or(%q): err = %v, want one naming the task and the expression", name, err)
		}
	}
	// A name that does not look secret is not given to the steps, so it
	// need not fit an engine; a portable secret name is.
	src := "version: 1\nname: e\ntasks:\n  a:\n    uses: shell\n    with:\n      run: 'echo ${{ env[\"x.y\"] }} ${{ env_or(\"A_TOKEN\", \"\") }}'\n"
	w, err := export.Build(load(t, src), opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Secrets, []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "A_TOKEN"}) {
		t.Errorf("secrets = %v", w.Secrets)
	}
}

func TestIncludeDirsReachEveryStep(t *testing.T) {
	w, err := export.Build(load(t, chain), export.Options{Recipe: "r.yaml", State: "s3://b/p", IncludeDirs: []string{"lib", "../shared"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range w.Steps {
		got := strings.Join(s.Command(w, "R", "I"), " ")
		if !strings.Contains(got, "--include-dir lib --include-dir ../shared") {
			t.Errorf("step %s: %s", s.Name, got)
		}
	}
}

func TestCountItemsLeavesOutListsThatReadTheEnvironment(t *testing.T) {
	r := load(t, `version: 1
vars:
  n: ${{ env_or("N", "3") }}
  m: ${{ vars.n }}
  k: 2
tasks:
  direct: {uses: shell, for_each: '${{ 1..int(env_or("N", "3")) }}', with: {run: echo}}
  member: {uses: shell, for_each: '${{ [env.HOME] }}', with: {run: echo}}
  through-vars: {uses: shell, for_each: '${{ 1..int(vars.m) }}', with: {run: echo}}
  known: {uses: shell, for_each: '${{ 1..vars.k }}', with: {run: echo}}
`)
	scope := eval.NewScope(r.Dir, time.Now(), map[string]string{"N": "3", "HOME": "/root"})
	scope.Vars["n"], scope.Vars["m"], scope.Vars["k"] = "3", "3", 2
	got := export.CountItems(r, scope)
	if len(got) != 1 || got["known"] != 2 {
		t.Errorf("counts = %v, want known: 2 only (the others read the environment, known on the step's machine only)", got)
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb": "a b", "a\r\nb": "a b", "a\u0085b": "a b", "a\u2028b\u2029c": "a b c", "a\x00b\tc": "a b c", " x  y ": "x y",
	} {
		if got := export.OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
