// Package params derives, from a task type's params struct, the one
// description of its parameters that everything else uses: static checking
// of a recipe's `with` block (with positions), decoding of the evaluated
// values at run time, defaults, the `runner tasks` docs and the JSON Schema.
// A type's shape is therefore written once, as a Go struct.
//
// Struct tags: `yaml:"name"` (the param's name; json must agree),
// `default:"value"`, `required:"true"`, `enum:"a,b,c"`. Field docs come from
// the fields' doc comments, extracted by go generate. An exported embedded
// struct tagged `yaml:",inline"` contributes its fields as params.
package params
