// Package params derives, from a Go struct, the one description of a set of
// parameters that everything else uses: static checking of YAML (with
// positions), decoding of literal YAML and of evaluated values, defaults,
// the `runner tasks` docs, Markdown reference tables and the JSON Schema.
// Task types describe their `with` params with it, and package recipe
// describes the recipe file itself (params.Literal: no expressions, and
// "keys" rather than "params" in messages). A shape is written once, as a
// Go struct.
//
// Struct tags: `yaml:"name"` (the name; json must agree), `default:"value"`,
// `required:"true"`, `enum:"a,b,c"` (or an Enumer), `min:"1"` (a number's
// least value, or a list's or map's least length), `keys:"regexp"` with
// `keyname:"task id"` and `keyrule:"…"` (a map's keys), `oneof:"string,list"`
// (an `any` field of one of several shapes), `shape:"…"` (how messages
// word the expected value) and `hint:"…"` (what to do when it is missing
// or empty). Field docs come from the fields' doc comments, extracted by go
// generate. An exported embedded struct tagged `yaml:",inline"` contributes
// its fields.
//
// Kinds beyond Go's own: Size (16MiB, 1.5GiB, 500k or bytes, parsed once),
// Path (resolved against the task's folder when decoded), Strings and Paths
// (one value or a list).
//
// Every problem is a FieldError carrying its path (["retry", "delay"]), so
// that a caller finds its position by walking that path in the YAML
// document (Locate), never by reading the message.
package params
