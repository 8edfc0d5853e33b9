// Package report shows a run to people and machines: plain timestamped
// lines for CI logs, a live view with one line per running task on a
// terminal, one JSON object per event for machines, the end-of-run summary
// table (also as Markdown for GITHUB_STEP_SUMMARY), and dry-run plans.
// Reporter puts them together as the engine's Reporter, from Settings the
// CLI chooses; the engine itself never writes to a terminal. Every string
// passes through the secret masker before it is written.
package report
