package params_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/params"
)

type inner struct {
	Name string `yaml:"name" json:"name" required:"true"`
}

type sample struct {
	Path    string            `yaml:"path" json:"path" required:"true"`
	Level   int               `yaml:"level" json:"level" default:"6"`
	Ratio   float64           `yaml:"ratio" json:"ratio" default:"0.5"`
	Fast    bool              `yaml:"fast" json:"fast" default:"true"`
	Wait    time.Duration     `yaml:"wait" json:"wait" default:"90s"`
	Files   []string          `yaml:"files" json:"files"`
	Env     map[string]string `yaml:"env" json:"env"`
	Mode    string            `yaml:"mode" json:"mode" enum:"a,b"`
	Nested  inner             `yaml:"nested" json:"nested"`
	Opaque  any               `yaml:"opaque" json:"opaque"`
	Ignored string            `yaml:"-" json:"-"`
}

func spec(t *testing.T) *params.Type {
	t.Helper()
	s, err := params.Of(sample{}, func(st, f string) string { return st + "." + f })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecodeAppliesDefaultsAndConvertsEvaluatedValues(t *testing.T) {
	var got sample
	err := spec(t).Decode(map[string]any{
		"path": "x", "level": "9", "files": []string{"a", "b"}, "env": map[string]any{"K": 1},
		"nested": map[string]any{"name": "n"}, "opaque": []any{1},
	}, &got, "")
	if err != nil {
		t.Fatal(err)
	}
	want := sample{Path: "x", Level: 9, Ratio: 0.5, Fast: true, Wait: 90 * time.Second, Files: []string{"a", "b"},
		Env: map[string]string{"K": "1"}, Nested: inner{Name: "n"}, Opaque: []any{1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestDecodeErrorsNameThePath(t *testing.T) {
	cases := map[string]map[string]any{
		`missing required param "path" (string)`:               {},
		`files[1]: expected a string, got a map`:               {"path": "x", "files": []any{"a", map[string]any{}}},
		`level: expected an integer`:                           {"path": "x", "level": "high"},
		`mode: "c" is not one of a, b`:                         {"path": "x", "mode": "c"},
		`unknown param "pth" (did you mean "path"?)`:           {"path": "x", "pth": 1},
		`nested: missing required param "name"`:                {"path": "x", "nested": map[string]any{}},
		`wait: bad duration "soon"`:                            {"path": "x", "wait": "soon"},
		`got the string "high"; wait: bad duration "x"`:        {"path": "x", "level": "high", "wait": "x"},
		`with.level: expected an integer, got the string "hi"`: {"path": "x", "level": "hi"},
	}
	for want, in := range cases {
		var got sample
		err := spec(t).Decode(in, &got, "")
		if strings.HasPrefix(want, "with.") {
			err = params.Under("with", err)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: got %v, want …%s…", in, err, want)
		}
	}
}

func TestSpecCarriesDocsDefaultsAndSchema(t *testing.T) {
	s := spec(t)
	if len(s.Fields) != 10 {
		t.Fatalf("%d fields, want 10 (yaml:\"-\" is left out)", len(s.Fields))
	}
	f := s.Field("level")
	if f.Doc != "sample.Level" || f.Default != int64(6) || f.Type.Kind != params.Int {
		t.Errorf("level: %+v", f)
	}
	js := s.JSONSchema()
	props := js["properties"].(map[string]any)
	if js["additionalProperties"] != false || !reflect.DeepEqual(js["required"], []string{"path"}) {
		t.Errorf("schema: %v", js)
	}
	if props["mode"].(map[string]any)["anyOf"].([]any)[0].(map[string]any)["enum"] == nil || props["level"].(map[string]any)["anyOf"] == nil {
		t.Errorf("mode needs an enum, level an expression alternative: %v", props)
	}
}

func TestMalformedParamStructsAreRejected(t *testing.T) {
	type noTag struct{ X string }
	type mismatch struct {
		X string `yaml:"x" json:"y"`
	}
	type badDefault struct {
		N int `yaml:"n" json:"n" default:"many"`
	}
	for _, v := range []any{noTag{}, mismatch{}, badDefault{}, 3} {
		if _, err := params.Of(v, nil); err == nil {
			t.Errorf("%T: want an error", v)
		}
	}
}

type Access struct {
	Region string `yaml:"region" json:"region"`
	Fast   bool   `yaml:"fast" json:"fast" default:"true"`
}

type withInline struct {
	To     string `yaml:"to" json:"to" required:"true"`
	Access `yaml:",inline" json:",inline"`
}

type clash struct {
	Region string `yaml:"region" json:"region"`
	Access `yaml:",inline" json:",inline"`
}

func TestInlinedStructsContributeTheirFields(t *testing.T) {
	s, err := params.Of(withInline{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := strings.Join(s.FieldNames(), ","); names != "to,region,fast" {
		t.Fatalf("fields %s", names)
	}
	var got withInline
	if err := s.Decode(map[string]any{"to": "s3://b/", "region": "ap-northeast-2"}, &got, ""); err != nil {
		t.Fatal(err)
	}
	if got.To != "s3://b/" || got.Region != "ap-northeast-2" || !got.Fast {
		t.Fatalf("decoded %+v", got)
	}
	if _, err := params.Of(clash{}, nil); err == nil || !strings.Contains(err.Error(), `param "region" is declared twice`) {
		t.Fatalf("a clash: %v", err)
	}
}
