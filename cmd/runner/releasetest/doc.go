// Package releasetest tests recipes/release-runner.yaml end to end: it
// cross-builds runner twice, which takes minutes, so it is a package of its
// own and cmd/runner's end-to-end tests stay within go test's default
// 10-minute timeout per package. It has no code besides its tests.
package releasetest
