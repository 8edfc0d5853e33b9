// Package disttest tests the distributed path end to end, without a
// cluster: the built runner exports a recipe (`runner export --to argo`),
// and internal/distrun walks the YAML it wrote as Argo would, each step a
// separate `runner exec` process in its own empty folder, with a versitygw
// process as the state store and as the S3 target; the results are
// compared with a local `runner apply` of the same recipe. It is a package
// of its own so cmd/runner's end-to-end tests stay within go test's
// default timeout. It has no code besides its tests.
package disttest
